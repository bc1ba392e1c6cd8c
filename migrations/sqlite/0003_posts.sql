-- Posts with stored, indexed ranks (hot, score, controversy) per community
-- and across all communities; visible = 1 unless deleted or removed.

CREATE TABLE posts (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES communities (id),
  author_id TEXT NOT NULL REFERENCES accounts (id),
  title TEXT NOT NULL,
  body TEXT,
  url TEXT,
  upvotes INTEGER NOT NULL DEFAULT 0,
  downvotes INTEGER NOT NULL DEFAULT 0,
  score INTEGER NOT NULL DEFAULT 0,
  hot REAL NOT NULL,
  controversy REAL NOT NULL DEFAULT 0,
  comment_count INTEGER NOT NULL DEFAULT 0,
  locked INTEGER NOT NULL DEFAULT 0,
  visible INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  edited_at INTEGER,
  deleted_at INTEGER,
  removed_at INTEGER,
  removal_reason TEXT
);
CREATE INDEX posts_community_new ON posts (community_id, id DESC) WHERE visible = 1;
CREATE INDEX posts_community_hot ON posts (community_id, hot DESC, id DESC) WHERE visible = 1;
CREATE INDEX posts_community_top ON posts (community_id, score DESC, id DESC) WHERE visible = 1;
CREATE INDEX posts_community_controversial ON posts (community_id, controversy DESC, id DESC) WHERE visible = 1;
CREATE INDEX posts_new ON posts (id DESC) WHERE visible = 1;
CREATE INDEX posts_hot ON posts (hot DESC, id DESC) WHERE visible = 1;
CREATE INDEX posts_top ON posts (score DESC, id DESC) WHERE visible = 1;
CREATE INDEX posts_controversial ON posts (controversy DESC, id DESC) WHERE visible = 1;
CREATE INDEX posts_by_author ON posts (author_id, id DESC);
