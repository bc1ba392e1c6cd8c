-- Threaded comments. A comment row carries its post's change number at its
-- last change (version): the in-memory trees catch up on a post by reading
-- the rows whose version is above the one they hold. posts.comment_version
-- is bumped, under the post row's lock, by every change to its comments.

ALTER TABLE posts ADD COLUMN comment_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE comments (
  id TEXT PRIMARY KEY,
  post_id TEXT NOT NULL REFERENCES posts (id),
  parent_id TEXT REFERENCES comments (id),
  -- NULL: an imported comment whose author had deleted their account.
  author_id TEXT REFERENCES accounts (id),
  body TEXT,
  depth INTEGER NOT NULL,
  upvotes INTEGER NOT NULL DEFAULT 0,
  downvotes INTEGER NOT NULL DEFAULT 0,
  child_count INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  edited_at BIGINT,
  deleted_at BIGINT,
  removed_at BIGINT,
  removal_reason TEXT,
  version BIGINT NOT NULL
);
CREATE INDEX comments_by_post_version ON comments (post_id, version);
CREATE INDEX comments_by_author ON comments (author_id, id DESC) WHERE deleted_at IS NULL AND removed_at IS NULL;

-- Replies and mentions for their recipients (written by an outbox handler).
CREATE TABLE inbox (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  kind TEXT NOT NULL CHECK (kind IN ('reply', 'mention')),
  comment_id TEXT NOT NULL REFERENCES comments (id),
  created_at BIGINT NOT NULL,
  read_at BIGINT,
  UNIQUE (account_id, comment_id)
);
CREATE INDEX inbox_by_account ON inbox (account_id, id DESC);
CREATE INDEX inbox_unread ON inbox (account_id) WHERE read_at IS NULL;

-- What an import made of each outside item, so that importing again changes nothing.
CREATE TABLE import_map (
  source TEXT NOT NULL,
  external_id TEXT NOT NULL,
  local_id TEXT NOT NULL,
  PRIMARY KEY (source, external_id)
);
