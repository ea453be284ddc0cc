-- The expiry sweep looks for open invitations sent long ago; without this it walked the sent_at
-- index over every invitation ever sent (almost all long finished) on each pass.
CREATE INDEX invitations_open_sent ON invitations (sent_at) WHERE status = 'active';
