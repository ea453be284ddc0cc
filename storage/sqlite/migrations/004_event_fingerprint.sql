-- A digest of the event body that created each invitation, so a repeated event_id with a
-- different body is told apart from a retry (409 instead of a silent 200).
ALTER TABLE invitations ADD COLUMN fingerprint TEXT;
