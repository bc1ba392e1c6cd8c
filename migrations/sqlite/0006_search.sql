-- Full-text search documents (posts, communities; comments later), kept by
-- the search module from outbox events. FTS5 with Porter stemming.

CREATE TABLE search_documents (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  doc_rowid INTEGER NOT NULL UNIQUE,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
);

CREATE VIRTUAL TABLE search_fts USING fts5 (title, body, tokenize = 'porter unicode61 remove_diacritics 2');
