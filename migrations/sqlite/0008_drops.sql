-- Limited drops: a fixed stock sold from a set time, never oversold
-- (sold <= stock is checked by the database too); orders with their
-- lifecycle; idempotency keys of order creation.

CREATE TABLE drops (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES communities (id),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  stock INTEGER NOT NULL CHECK (stock > 0),
  sold INTEGER NOT NULL CHECK (sold >= 0 AND sold <= stock),
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  currency TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER,
  per_customer_limit INTEGER NOT NULL CHECK (per_customer_limit > 0),
  created_by TEXT NOT NULL REFERENCES accounts (id),
  created_at INTEGER NOT NULL
);
CREATE INDEX drops_by_start ON drops (starts_at, id);

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  drop_id TEXT NOT NULL REFERENCES drops (id),
  account_id TEXT NOT NULL REFERENCES accounts (id),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'expired', 'cancelled', 'refunded')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX orders_by_account ON orders (account_id, id DESC);
CREATE INDEX orders_by_buyer_of_drop ON orders (drop_id, account_id);
CREATE INDEX orders_pending_by_expiry ON orders (expires_at, id) WHERE status = 'pending';

-- The first answer to an order request, replayed for the same key and body.
CREATE TABLE idempotency_keys (
  account_id TEXT NOT NULL REFERENCES accounts (id),
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  response TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
