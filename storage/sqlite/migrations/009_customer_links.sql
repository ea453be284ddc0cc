-- Customers the shop knows by its own id (order number, e-mail, CRM id), reached through a deep
-- link t.me/<bot>?start=<token> until their Telegram chat is known.
CREATE TABLE external_customers (
    external_id TEXT PRIMARY KEY,
    -- NULL until the customer opened a link (or an event gave it). Not unique: one person may
    -- hold several of the shop's ids (two accounts); the newest link of an id wins.
    telegram_id INTEGER,
    name        TEXT,
    username    TEXT,
    language    TEXT,
    created_at  TEXT NOT NULL,
    linked_at   TEXT
) WITHOUT ROWID;
CREATE INDEX external_customers_chat ON external_customers (telegram_id);

-- Deep-link tokens, stored only as a SHA-256 hex digest; the token itself is never kept.
CREATE TABLE link_tokens (
    token_hash  TEXT PRIMARY KEY,
    external_id TEXT NOT NULL REFERENCES external_customers (external_id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,  -- the Telegram user who opened it
    used_at     TEXT
) WITHOUT ROWID;
CREATE INDEX link_tokens_customer ON link_tokens (external_id);

-- Events for a customer with no linked chat yet ("awaiting_link"). Opening the link turns each
-- into an invitation due at once, in the same transaction that links the chat, and deletes it
-- here (the invitation keeps its event_id and fingerprint, so a replay still matches).
CREATE TABLE awaiting_link (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    external_id TEXT NOT NULL REFERENCES external_customers (external_id),
    event_type  TEXT NOT NULL,
    survey      TEXT NOT NULL,
    context     TEXT NOT NULL DEFAULT '{}',
    fingerprint TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX awaiting_link_customer ON awaiting_link (external_id);
