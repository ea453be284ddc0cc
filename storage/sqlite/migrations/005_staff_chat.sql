-- The staff chat as it really is: a group upgraded to a supergroup gets a new id, which the
-- config file does not know, and whether the alert worker could reach it last time it tried.
CREATE TABLE chat_migrations (
    old_chat_id INTEGER PRIMARY KEY,
    new_chat_id INTEGER NOT NULL,
    migrated_at TEXT NOT NULL
);

-- Small named values the process keeps across restarts (e.g. staff_chat_status).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
