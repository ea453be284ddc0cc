-- Managers' analytics: indexes that let SQL aggregate without touching table rows, and the
-- bookkeeping of scheduled reports.

-- Score distributions per metric and time range (and per bucket): a covering index, so counting
-- a quarter of NPS answers reads only this index. invitation_id is there for context joins.
CREATE INDEX answers_metric_time_score ON answers (metric, answered_at, score, invitation_id);
-- The older (metric, answered_at) index is a prefix of the one above.
DROP INDEX IF EXISTS answers_metric_time;
-- Exports and answer/comment counts over all metrics, in time order.
CREATE INDEX answers_time ON answers (answered_at);
-- "Recent detractor comments" in reports: a tiny partial index.
CREATE INDEX answers_detractor_comments ON answers (answered_at)
    WHERE category = 'detractor' AND comment IS NOT NULL;
-- Response rate: invitations delivered in a period.
CREATE INDEX invitations_sent ON invitations (sent_at) WHERE sent_at IS NOT NULL;

-- One row per scheduled report run and chat. A row with sent_at set is never sent again, so a
-- restart (or a start-up catch-up racing the cron job) cannot send a period's report twice.
CREATE TABLE report_runs (
    job          TEXT NOT NULL,     -- the cron expression and timezone the run belongs to
    fire_time    TEXT NOT NULL,     -- the scheduled time (UTC ISO), the run's identity
    chat_id      INTEGER NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    claimed_at   TEXT NOT NULL,
    sent_at      TEXT,
    PRIMARY KEY (job, fire_time, chat_id)
) WITHOUT ROWID;
