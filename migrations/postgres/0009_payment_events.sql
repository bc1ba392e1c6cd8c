-- Payment provider events, one row per event id (a repeated event changes
-- nothing), with what Agora did about it. 'refund_due' rows are payments
-- that came for an order that could no longer take them.

CREATE TABLE payment_events (
  id TEXT PRIMARY KEY,
  order_id TEXT,
  type TEXT NOT NULL,
  amount_cents INTEGER,
  outcome TEXT NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE INDEX payment_events_by_order ON payment_events (order_id);
CREATE INDEX payment_events_refund_due ON payment_events (received_at, id) WHERE outcome = 'refund_due';
