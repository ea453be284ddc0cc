-- The reason staff pick when they resolve an alert ([alerts] reasons: delivery, quality, ...),
-- kept on the alert and in its action log, for /stats by reason and the report.
ALTER TABLE alerts ADD COLUMN reason TEXT;
ALTER TABLE alert_actions ADD COLUMN detail TEXT;
CREATE INDEX alerts_resolved ON alerts (resolved_at) WHERE resolved_at IS NOT NULL;
