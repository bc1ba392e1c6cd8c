-- Hardening against hostile clients.
-- The site's secrets (the cursor signing key), shared by every process.
CREATE TABLE site_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Site admins are marked by `agora admin create|grant`, never by a name.
ALTER TABLE accounts ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
-- Sign-in back-off per account: failures in a row and when the next try is allowed.
ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN login_after INTEGER NOT NULL DEFAULT 0;

-- (SQLite's INTEGER already holds 64-bit money amounts.)

-- Unpaid holds per account, counted at each order.
CREATE INDEX orders_pending_by_account ON orders (account_id) WHERE status = 'pending';

-- The failed-events gauge of /metrics counts over this index, not the whole outbox.
CREATE INDEX outbox_failed ON outbox (id) WHERE failed_at IS NOT NULL;

-- A cold load walks a thread in (version, id) chunks: an index range, as the catch-up's (version >) is.
DROP INDEX comments_by_post_version;
CREATE INDEX comments_by_post_version ON comments (post_id, version, id);
