-- Erasure (/forget, DELETE /api/v1/customers/<key>) and what the staff chat must blank out.
-- When a customer's personal data was erased (the row stays as a do-not-contact record).
ALTER TABLE customers ADD COLUMN erased_at TEXT;
-- Alert cards of an erased customer: rendered as "customer data erased", no replies relayed.
ALTER TABLE alerts ADD COLUMN erased_at TEXT;
-- Staff-chat messages of a thread that carry the customer's own words: 1 = text relayed by the
-- bot, 2 = a voice note, photo or video sent by the bot. redact = 1: the alert worker blanks it.
ALTER TABLE alert_messages ADD COLUMN customer_words INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_messages ADD COLUMN redact INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alert_messages_redact ON alert_messages (alert_id) WHERE redact = 1;
