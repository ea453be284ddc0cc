-- What a customer typed (or sent) at a score question before pressing a score. It waits on the
-- invitation, for the question at early_comment_step, and becomes that answer's comment when the
-- score comes (a follow-up answer is added after it).
ALTER TABLE invitations ADD COLUMN early_comment TEXT;
ALTER TABLE invitations ADD COLUMN early_comment_kind TEXT;
ALTER TABLE invitations ADD COLUMN early_comment_file_id TEXT;
ALTER TABLE invitations ADD COLUMN early_comment_step INTEGER;
