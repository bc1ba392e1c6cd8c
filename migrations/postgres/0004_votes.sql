-- One vote per account and target (a post now, comments later): +1 or -1.

CREATE TABLE votes (
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  value INTEGER NOT NULL CHECK (value IN (-1, 1)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (target_type, target_id, account_id)
);
CREATE INDEX votes_by_account ON votes (account_id, target_type, target_id);
