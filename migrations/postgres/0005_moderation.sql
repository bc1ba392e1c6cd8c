-- Community bans, reports and the public moderation log.

CREATE TABLE bans (
  community_id TEXT NOT NULL REFERENCES communities (id),
  account_id TEXT NOT NULL REFERENCES accounts (id),
  reason TEXT NOT NULL,
  banned_by TEXT NOT NULL REFERENCES accounts (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  PRIMARY KEY (community_id, account_id)
);

CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES communities (id),
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  reporter_id TEXT NOT NULL REFERENCES accounts (id),
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  resolved_at BIGINT,
  resolved_by TEXT REFERENCES accounts (id)
);
CREATE UNIQUE INDEX reports_once ON reports (target_type, target_id, reporter_id);
CREATE INDEX reports_open ON reports (community_id, id DESC) WHERE resolved_at IS NULL;

CREATE TABLE modlog (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES communities (id),
  moderator_id TEXT NOT NULL REFERENCES accounts (id),
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  reason TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX modlog_by_community ON modlog (community_id, id DESC);
