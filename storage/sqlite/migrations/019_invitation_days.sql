-- Invitations sent and answered per UTC day of sent_at, kept by triggers in the very transaction
-- that changes an invitation or its answers. /stats' activity line then reads ~90 rows for 90
-- days instead of probing the answers of 146,000 invitations. Filtered figures still count the
-- invitations themselves (storage/analytics.py).
--
-- "Sent" is what Analytics.activity always meant: sent_at is set and the send was not refused
-- for good before any message existed (status 'failed' without a message_id). "Answered": sent
-- and at least one answer exists.
CREATE TABLE invitation_days (
    day      TEXT PRIMARY KEY,  -- YYYY-MM-DD of sent_at, which is stored in UTC
    sent     INTEGER NOT NULL,
    answered INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO invitation_days (day, sent, answered)
    SELECT substr(i.sent_at, 1, 10), count(*),
           sum(EXISTS (SELECT 1 FROM answers x WHERE x.invitation_id = i.id))
    FROM invitations i
    WHERE i.sent_at IS NOT NULL AND NOT (i.status = 'failed' AND i.message_id IS NULL)
    GROUP BY 1;

CREATE TRIGGER invitation_days_insert AFTER INSERT ON invitations
WHEN NEW.sent_at IS NOT NULL AND NOT (NEW.status = 'failed' AND NEW.message_id IS NULL)
BEGIN
    INSERT INTO invitation_days (day, sent, answered)
        SELECT substr(NEW.sent_at, 1, 10), 1,
               EXISTS (SELECT 1 FROM answers WHERE invitation_id = NEW.id)
        WHERE true
        ON CONFLICT (day) DO UPDATE SET sent = sent + 1, answered = answered + excluded.answered;
END;

-- Fires only when the row moves in or out of "sent" or to another day: most updates of an
-- invitation (its step, its prompt flag) cost nothing here.
CREATE TRIGGER invitation_days_update AFTER UPDATE OF sent_at, status, message_id ON invitations
WHEN (OLD.sent_at IS NOT NULL AND NOT (OLD.status = 'failed' AND OLD.message_id IS NULL))
        IS NOT (NEW.sent_at IS NOT NULL AND NOT (NEW.status = 'failed' AND NEW.message_id IS NULL))
    OR substr(OLD.sent_at, 1, 10) IS NOT substr(NEW.sent_at, 1, 10)
BEGIN
    UPDATE invitation_days
        SET sent = sent - 1,
            answered = answered - EXISTS (SELECT 1 FROM answers WHERE invitation_id = OLD.id)
        WHERE day = substr(OLD.sent_at, 1, 10)
          AND OLD.sent_at IS NOT NULL AND NOT (OLD.status = 'failed' AND OLD.message_id IS NULL);
    INSERT INTO invitation_days (day, sent, answered)
        SELECT substr(NEW.sent_at, 1, 10), 1,
               EXISTS (SELECT 1 FROM answers WHERE invitation_id = NEW.id)
        WHERE NEW.sent_at IS NOT NULL AND NOT (NEW.status = 'failed' AND NEW.message_id IS NULL)
        ON CONFLICT (day) DO UPDATE SET sent = sent + 1, answered = answered + excluded.answered;
END;

CREATE TRIGGER invitation_days_delete AFTER DELETE ON invitations
WHEN OLD.sent_at IS NOT NULL AND NOT (OLD.status = 'failed' AND OLD.message_id IS NULL)
BEGIN
    UPDATE invitation_days
        SET sent = sent - 1,
            answered = answered - EXISTS (SELECT 1 FROM answers WHERE invitation_id = OLD.id)
        WHERE day = substr(OLD.sent_at, 1, 10);
END;

-- An invitation's first answer makes it answered; removing its last answer undoes that.
CREATE TRIGGER invitation_days_first_answer AFTER INSERT ON answers
WHEN NOT EXISTS (
    SELECT 1 FROM answers WHERE invitation_id = NEW.invitation_id AND id != NEW.id
)
BEGIN
    UPDATE invitation_days SET answered = answered + 1
        WHERE day = (
            SELECT substr(sent_at, 1, 10) FROM invitations
            WHERE id = NEW.invitation_id AND sent_at IS NOT NULL
              AND NOT (status = 'failed' AND message_id IS NULL)
        );
END;

CREATE TRIGGER invitation_days_last_answer AFTER DELETE ON answers
WHEN NOT EXISTS (SELECT 1 FROM answers WHERE invitation_id = OLD.invitation_id)
BEGIN
    UPDATE invitation_days SET answered = answered - 1
        WHERE day = (
            SELECT substr(sent_at, 1, 10) FROM invitations
            WHERE id = OLD.invitation_id AND sent_at IS NOT NULL
              AND NOT (status = 'failed' AND message_id IS NULL)
        );
END;

CREATE TRIGGER invitation_days_answer_moved AFTER UPDATE OF invitation_id ON answers
WHEN OLD.invitation_id != NEW.invitation_id
BEGIN
    UPDATE invitation_days SET answered = answered - 1
        WHERE NOT EXISTS (SELECT 1 FROM answers WHERE invitation_id = OLD.invitation_id)
          AND day = (
            SELECT substr(sent_at, 1, 10) FROM invitations
            WHERE id = OLD.invitation_id AND sent_at IS NOT NULL
              AND NOT (status = 'failed' AND message_id IS NULL)
        );
    UPDATE invitation_days SET answered = answered + 1
        WHERE NOT EXISTS (
            SELECT 1 FROM answers WHERE invitation_id = NEW.invitation_id AND id != NEW.id
        )
          AND day = (
            SELECT substr(sent_at, 1, 10) FROM invitations
            WHERE id = NEW.invitation_id AND sent_at IS NOT NULL
              AND NOT (status = 'failed' AND message_id IS NULL)
        );
END;

-- Answers with a comment, per day, metric and score, beside answer_days.n (migration 015): the
-- activity line's comment count. A comment is written after its score (commented_at is set by
-- an update), so the update trigger now also follows commented_at.
ALTER TABLE answer_days ADD COLUMN comments INTEGER NOT NULL DEFAULT 0;

UPDATE answer_days SET comments = c.n
    FROM (
        SELECT substr(answered_at, 1, 10) AS day, metric, score, count(*) AS n FROM answers
        WHERE commented_at IS NOT NULL GROUP BY 1, 2, 3
    ) AS c
    WHERE c.day = answer_days.day AND c.metric = answer_days.metric AND c.score = answer_days.score;

DROP TRIGGER answer_days_insert;
DROP TRIGGER answer_days_delete;
DROP TRIGGER answer_days_update;

CREATE TRIGGER answer_days_insert AFTER INSERT ON answers BEGIN
    INSERT INTO answer_days (day, metric, score, n, comments)
        VALUES (substr(NEW.answered_at, 1, 10), NEW.metric, NEW.score, 1,
                NEW.commented_at IS NOT NULL)
        ON CONFLICT (day, metric, score)
        DO UPDATE SET n = n + 1, comments = comments + excluded.comments;
END;

CREATE TRIGGER answer_days_delete AFTER DELETE ON answers BEGIN
    UPDATE answer_days SET n = n - 1, comments = comments - (OLD.commented_at IS NOT NULL)
        WHERE day = substr(OLD.answered_at, 1, 10) AND metric = OLD.metric AND score = OLD.score;
END;

CREATE TRIGGER answer_days_update AFTER UPDATE OF answered_at, metric, score, commented_at
ON answers
WHEN OLD.answered_at IS NOT NEW.answered_at OR OLD.metric IS NOT NEW.metric
    OR OLD.score IS NOT NEW.score
    OR (OLD.commented_at IS NOT NULL) IS NOT (NEW.commented_at IS NOT NULL)
BEGIN
    UPDATE answer_days SET n = n - 1, comments = comments - (OLD.commented_at IS NOT NULL)
        WHERE day = substr(OLD.answered_at, 1, 10) AND metric = OLD.metric AND score = OLD.score;
    INSERT INTO answer_days (day, metric, score, n, comments)
        VALUES (substr(NEW.answered_at, 1, 10), NEW.metric, NEW.score, 1,
                NEW.commented_at IS NOT NULL)
        ON CONFLICT (day, metric, score)
        DO UPDATE SET n = n + 1, comments = comments + excluded.comments;
END;
