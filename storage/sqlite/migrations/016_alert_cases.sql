-- One case per unhappy customer: the first low answer of an invitation raises its alert; later
-- low answers of the same invitation join that alert (shown on its card) instead of raising
-- another. Databases that already have two alerts for one invitation keep them.
CREATE TABLE alert_answers (
    alert_id  INTEGER NOT NULL REFERENCES alerts (id),
    answer_id INTEGER NOT NULL UNIQUE REFERENCES answers (id),
    PRIMARY KEY (alert_id, answer_id)
) WITHOUT ROWID;
CREATE INDEX alerts_invitation ON alerts (invitation_id);

-- Reopened: the customer said "not solved" at the re-check, or answered low again. The owner is
-- kept; one line is posted into the alert's thread (reopen_post 1 = due, 0 = done).
ALTER TABLE alerts ADD COLUMN reopened_at TEXT;
ALTER TABLE alerts ADD COLUMN reopen_reason TEXT;  -- not_solved, low_again
ALTER TABLE alerts ADD COLUMN reopen_post INTEGER NOT NULL DEFAULT 0;
