-- Campaigns (issue 9): relationship surveys sent to an audience on a schedule or by hand.

-- One row per run: a scheduled run is identified by its campaign and fire time, so a restart or
-- a start-up catch-up racing the cron job cannot run it twice; a run by hand gets its own fire
-- time (the moment it was started). finished_at stays NULL until every chunk is in: a run
-- interrupted halfway is resumed, and its event ids (campaign:<name>:<id>:<telegram id>) make
-- the resumed part skip whoever was already invited.
CREATE TABLE campaign_runs (
    id          INTEGER PRIMARY KEY,
    campaign    TEXT NOT NULL,
    fire_time   TEXT NOT NULL,
    manual      INTEGER NOT NULL DEFAULT 0,
    claimed_at  TEXT NOT NULL,
    finished_at TEXT,
    invited     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (campaign, fire_time)
);
CREATE INDEX campaign_runs_unfinished ON campaign_runs (campaign) WHERE finished_at IS NULL;

-- Audience filters: "context.<key> = value" matches case-insensitively through this index;
-- "active_within" probes a customer's invitations by creation time and answers by time.
CREATE INDEX invitation_context_kv_nocase
    ON invitation_context (key, value COLLATE NOCASE, invitation_id);
CREATE INDEX invitations_customer_created ON invitations (customer_id, created_at);
CREATE INDEX answers_customer_time ON answers (customer_id, answered_at);
