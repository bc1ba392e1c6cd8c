-- Communities, their subscribers and moderators.

CREATE TABLE communities (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  creator_id TEXT NOT NULL REFERENCES accounts (id),
  subscriber_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX communities_popular ON communities (subscriber_count DESC, id DESC);

CREATE TABLE subscriptions (
  account_id TEXT NOT NULL REFERENCES accounts (id),
  community_id TEXT NOT NULL REFERENCES communities (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, community_id)
);

CREATE TABLE community_moderators (
  community_id TEXT NOT NULL REFERENCES communities (id),
  account_id TEXT NOT NULL REFERENCES accounts (id),
  added_by TEXT NOT NULL REFERENCES accounts (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (community_id, account_id)
);
