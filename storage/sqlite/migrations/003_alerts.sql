-- Detractor alerts in the staff chat, what staff did with them, and the messages of their thread.
CREATE TABLE alerts (
    id                  INTEGER PRIMARY KEY,
    answer_id           INTEGER NOT NULL UNIQUE REFERENCES answers (id),
    invitation_id       INTEGER NOT NULL REFERENCES invitations (id),
    customer_id         INTEGER NOT NULL,
    chat_id             INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'open',  -- open, taken, resolved
    -- Outbox flags: post 0 = to post, 2 = being posted, 1 = posted; dirty 1 = card to re-render.
    post_state          INTEGER NOT NULL DEFAULT 0,
    dirty               INTEGER NOT NULL DEFAULT 0,
    message_id          INTEGER,  -- the alert card in the staff chat
    digest_message_id   INTEGER,  -- set when it was announced in a digest during a burst
    owner_id            INTEGER,
    owner_name          TEXT,
    taken_at            TEXT,
    resolved_by_id      INTEGER,
    resolved_by_name    TEXT,
    resolved_at         TEXT,
    escalate_at         TEXT,
    escalated_at        TEXT,
    recheck_at          TEXT,
    recheck_sent_at     TEXT,
    recheck_solved      INTEGER,  -- 1 yes, 0 no
    recheck_answered_at TEXT,
    delivery_note       TEXT      -- e.g. the customer blocked the bot
);
CREATE INDEX alerts_post ON alerts (post_state, dirty);
CREATE INDEX alerts_status ON alerts (status, created_at);
CREATE INDEX alerts_customer ON alerts (customer_id, status);

CREATE TABLE alert_actions (
    id         INTEGER PRIMARY KEY,
    alert_id   INTEGER NOT NULL REFERENCES alerts (id),
    actor_id   INTEGER,
    actor_name TEXT,
    action     TEXT NOT NULL,  -- created, taken, resolved, escalated, replied, relayed, rechecked
    at         TEXT NOT NULL
);
CREATE INDEX alert_actions_alert ON alert_actions (alert_id);

-- Staff-chat messages that belong to an alert's thread: a reply to any of them reaches the customer.
CREATE TABLE alert_messages (
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    alert_id   INTEGER NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
