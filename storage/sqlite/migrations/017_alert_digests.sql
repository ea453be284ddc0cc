-- Digests (one message listing a burst of alerts) are edited as their alerts are taken or
-- resolved: each digest is remembered with the count it announced, and a trigger marks it to
-- be drawn again whenever one of its alerts changes status or owner, in that same transaction.
CREATE TABLE alert_digests (
    message_id INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    waiting    INTEGER NOT NULL,
    dirty      INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER alert_digest_stale AFTER UPDATE OF status, owner_id ON alerts
WHEN NEW.digest_message_id IS NOT NULL
BEGIN
    UPDATE alert_digests SET dirty = 1 WHERE message_id = NEW.digest_message_id;
END;
