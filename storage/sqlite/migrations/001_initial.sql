-- Customers, invitations (which double as the outbox of survey prompts), context and answers.
CREATE TABLE customers (
    telegram_id     INTEGER PRIMARY KEY,
    name            TEXT,
    username        TEXT,
    language        TEXT,
    opted_out_at    TEXT,
    unreachable_at  TEXT,
    last_invited_at TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    survey       TEXT NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customers (telegram_id),
    context      TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    send_at      TEXT NOT NULL,
    status       TEXT NOT NULL,
    step         INTEGER NOT NULL DEFAULT 0,
    phase        TEXT NOT NULL DEFAULT 'score',
    -- The outbox flag for the prompt of (step, phase): 0 = to be shown, 2 = being sent (claimed
    -- by the worker; if the process dies now, the send's fate is unknown), 1 = shown.
    prompt_sent  INTEGER NOT NULL DEFAULT 0,
    -- When the delivery worker should next look at this row (send time, or a retry after an error).
    due_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    message_id   INTEGER,
    sent_at      TEXT,
    finished_at  TEXT,
    note         TEXT
);
CREATE INDEX invitations_due ON invitations (due_at) WHERE prompt_sent = 0;
CREATE INDEX invitations_customer ON invitations (customer_id, status);

-- The event's context as key/value rows, so segments and filters are indexed SQL.
CREATE TABLE invitation_context (
    invitation_id INTEGER NOT NULL REFERENCES invitations (id),
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (invitation_id, key)
) WITHOUT ROWID;
CREATE INDEX invitation_context_kv ON invitation_context (key, value, invitation_id);

CREATE TABLE answers (
    id              INTEGER PRIMARY KEY,
    invitation_id   INTEGER NOT NULL REFERENCES invitations (id),
    question_index  INTEGER NOT NULL,
    survey          TEXT NOT NULL,
    metric          TEXT NOT NULL,
    score           INTEGER NOT NULL,
    category        TEXT NOT NULL,
    customer_id     INTEGER NOT NULL,
    answered_at     TEXT NOT NULL,
    comment         TEXT,
    comment_kind    TEXT,  -- text, voice, photo, video_note
    comment_file_id TEXT,
    commented_at    TEXT,
    UNIQUE (invitation_id, question_index)
);
CREATE INDEX answers_metric_time ON answers (metric, answered_at);
