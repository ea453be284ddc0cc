-- Invitations closed by the expiry sweep whose last message still shows buttons: 1 until the
-- delivery worker has removed them, so a restart between the two steps forgets nothing.
ALTER TABLE invitations ADD COLUMN keyboard_stale INTEGER NOT NULL DEFAULT 0;
CREATE INDEX invitations_keyboard_stale ON invitations (id) WHERE keyboard_stale = 1;
