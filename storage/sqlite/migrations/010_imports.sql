-- Answers imported from another tool (`survey-bot import answers`), so trends start with history.
-- Each hangs on an invitation of its own with status 'imported': never sent (sent_at stays NULL,
-- so response rates ignore it), its event_id 'import:<key>' unique, so a second run of the same
-- file adds nothing. Imported answers never raise alerts; this column marks them as imported.
ALTER TABLE answers ADD COLUMN imported_at TEXT;
