-- One FTS5 table per kind of document. Ranking a query then walks only that
-- kind's matches, with no join and no kind test per match (the single table
-- joined every match to search_documents to filter by kind: twice the cost).
-- search_documents keeps mapping (kind, id) to the FTS rowid.

CREATE VIRTUAL TABLE search_fts_posts USING fts5 (title, body, tokenize = 'porter unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE search_fts_comments USING fts5 (title, body, tokenize = 'porter unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE search_fts_communities USING fts5 (title, body, tokenize = 'porter unicode61 remove_diacritics 2');

INSERT INTO search_fts_posts (rowid, title, body)
SELECT f.rowid, f.title, f.body FROM search_fts f JOIN search_documents d ON d.doc_rowid = f.rowid WHERE d.kind = 'posts';
INSERT INTO search_fts_comments (rowid, title, body)
SELECT f.rowid, f.title, f.body FROM search_fts f JOIN search_documents d ON d.doc_rowid = f.rowid WHERE d.kind = 'comments';
INSERT INTO search_fts_communities (rowid, title, body)
SELECT f.rowid, f.title, f.body FROM search_fts f JOIN search_documents d ON d.doc_rowid = f.rowid WHERE d.kind = 'communities';

DROP TABLE search_fts;
