-- Accounts, sessions and the transactional outbox.
-- IDs are made by the application (ULID strings); times are epoch milliseconds.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL UNIQUE,
  email TEXT,
  password_hash TEXT NOT NULL,
  post_karma BIGINT NOT NULL DEFAULT 0,
  comment_karma BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id, expires_at);

CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  available_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  locked_until BIGINT,
  last_error TEXT,
  delivered_at BIGINT,
  failed_at BIGINT
);
CREATE INDEX outbox_due ON outbox (available_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE outbox_handled (
  event_id TEXT NOT NULL,
  handler TEXT NOT NULL,
  handled_at BIGINT NOT NULL,
  PRIMARY KEY (event_id, handler)
);
