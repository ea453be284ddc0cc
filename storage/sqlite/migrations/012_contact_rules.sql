-- Not pestering (issue 9): the one reminder after an unanswered first question, and the
-- customer's own time zone for quiet hours.
-- remind_at: when the reminder is due (NULL: none planned, or no longer wanted because the
-- customer answered or wrote). reminder_sent is its outbox flag, like prompt_sent: 0 = to be
-- sent, 2 = being sent (a restart sends it again: at-least-once), 1 = sent.
ALTER TABLE invitations ADD COLUMN remind_at TEXT;
ALTER TABLE invitations ADD COLUMN reminder_sent INTEGER NOT NULL DEFAULT 0;
CREATE INDEX invitations_remind ON invitations (remind_at) WHERE remind_at IS NOT NULL;
-- Recontact reads a customer's few earlier invitations through invitations_customer (001).
-- An IANA name ("Europe/Berlin") given by the shop; NULL: [throttle] timezone applies.
ALTER TABLE customers ADD COLUMN timezone TEXT;
