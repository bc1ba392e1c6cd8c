-- Full-text search documents (posts, communities; comments later), kept by
-- the search module from outbox events. tsvector with English stemming, GIN.

CREATE TABLE search_documents (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  document tsvector NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX search_documents_fts ON search_documents USING GIN (document);
