import { keyRange, type MigratedTable } from '../../platform/migration/index.js';
import type { Dialect, Param, Queryable, Row, Tx } from '../../platform/store/index.js';

/** The search module's SQL; SQLite (FTS5) and PostgreSQL (tsvector) differ entirely. */
export interface SearchQueries {
  upsert(tx: Tx, doc: { kind: string; id: string; title: string; body: string; now: number }): Promise<void>;
  remove(tx: Tx, kind: string, id: string): Promise<void>;
  find(q: Queryable, kind: string, terms: string[], limit: number, offset: number): Promise<{ id: string }[]>;
}

/** The FTS5 table of each kind (fixed names, never from input). */
const FTS: Record<string, string> = {
  posts: 'search_fts_posts',
  comments: 'search_fts_comments',
  communities: 'search_fts_communities',
};
const ftsOf = (kind: string) => {
  const table = FTS[kind];
  if (!table) throw new Error(`unknown search kind ${kind}`);
  return table;
};

const sqlite: SearchQueries = {
  async upsert(tx, doc) {
    const fts = ftsOf(doc.kind);
    const found = await tx.get<{ doc_rowid: number }>(
      'SELECT doc_rowid FROM search_documents WHERE kind = ? AND id = ?',
      [doc.kind, doc.id],
    );
    if (found) {
      await tx.run(`UPDATE ${fts} SET title = ?, body = ? WHERE rowid = ?`, [doc.title, doc.body, found.doc_rowid]);
      await tx.run('UPDATE search_documents SET updated_at = ? WHERE kind = ? AND id = ?', [doc.now, doc.kind, doc.id]);
      return;
    }
    const next = await tx.get<{ r: number }>('SELECT COALESCE(MAX(doc_rowid), 0) + 1 AS r FROM search_documents');
    const rowid = next?.r ?? 1;
    await tx.run(`INSERT INTO ${fts} (rowid, title, body) VALUES (?, ?, ?)`, [rowid, doc.title, doc.body]);
    await tx.run('INSERT INTO search_documents (kind, id, doc_rowid, updated_at) VALUES (?, ?, ?, ?)', [
      doc.kind,
      doc.id,
      rowid,
      doc.now,
    ]);
  },
  async remove(tx, kind, id) {
    const found = await tx.get<{ doc_rowid: number }>(
      'SELECT doc_rowid FROM search_documents WHERE kind = ? AND id = ?',
      [kind, id],
    );
    if (!found) return;
    await tx.run(`DELETE FROM ${ftsOf(kind)} WHERE rowid = ?`, [found.doc_rowid]);
    await tx.run('DELETE FROM search_documents WHERE kind = ? AND id = ?', [kind, id]);
  },
  find(q, kind, terms, limit, offset) {
    // Each term a quoted prefix query; FTS5 ANDs them. Title matches weigh 5x.
    // The kind's own table is ranked alone; only the page is mapped to ids.
    const match = terms.map((t) => `"${t}"*`).join(' ');
    const fts = ftsOf(kind);
    return q.all<{ id: string }>(
      `SELECT d.id FROM (SELECT rowid, bm25(${fts}, 5.0, 1.0) AS score FROM ${fts} WHERE ${fts} MATCH ?
         ORDER BY score, rowid DESC LIMIT ? OFFSET ?) r
       JOIN search_documents d ON d.doc_rowid = r.rowid ORDER BY r.score, r.rowid DESC`,
      [match, limit, offset],
    );
  },
};

const postgres: SearchQueries = {
  async upsert(tx, doc) {
    await tx.run(
      `INSERT INTO search_documents (kind, id, updated_at, title, body, document)
       VALUES (?, ?, ?, ?, ?, setweight(to_tsvector('english', ?), 'A') || setweight(to_tsvector('english', ?), 'B'))
       ON CONFLICT (kind, id) DO UPDATE SET updated_at = excluded.updated_at, title = excluded.title,
         body = excluded.body, document = excluded.document`,
      [doc.kind, doc.id, doc.now, doc.title, doc.body, doc.title, doc.body],
    );
  },
  async remove(tx, kind, id) {
    await tx.run('DELETE FROM search_documents WHERE kind = ? AND id = ?', [kind, id]);
  },
  find(q, kind, terms, limit, offset) {
    // Each term a prefix match; all must match. Terms are letters and digits only.
    const query = terms.map((t) => `${t}:*`).join(' & ');
    return q.all<{ id: string }>(
      `SELECT id FROM search_documents, to_tsquery('english', ?) query
       WHERE kind = ? AND document @@ query
       ORDER BY ts_rank_cd(document, query) DESC, id DESC LIMIT ? OFFSET ?`,
      [query, kind, limit, offset],
    );
  },
};

export const SEARCH_QUERIES: Record<Dialect, SearchQueries> = { sqlite, postgres };

/**
 * The search documents as a live migration moves them: the same canonical
 * row on both dialects — (kind, id, updated_at, title, body) — read from
 * FTS5 on SQLite or the plain columns on PostgreSQL, and written with each
 * dialect's own upsert (so the target's index is built as the search module
 * builds it, never copied as bytes).
 */
export const searchDocumentsTable: MigratedTable = {
  name: 'search_documents',
  primaryKey: ['kind', 'id'],
  columns: ['kind', 'id', 'updated_at', 'title', 'body'],
  readChunk(store, after, limit, until = null) {
    const { where, params } = keyRange(['kind', 'id'], after, until, 'd.');
    return store.q.all(`SELECT ${canonicalColumns(store.dialect)} ${where} ORDER BY d.kind, d.id LIMIT ?`, [
      ...params,
      limit,
    ]);
  },
  async readKeys(store, keys) {
    const out: Row[] = [];
    for (let i = 0; i < keys.length; i += 256) {
      const slice = keys.slice(i, i + 256);
      out.push(
        ...(await store.q.all(
          `SELECT ${canonicalColumns(store.dialect)} WHERE ${slice.map(() => '(d.kind = ? AND d.id = ?)').join(' OR ')}`,
          slice.flat() as Param[],
        )),
      );
    }
    return out;
  },
  async upsert(tx, dialect, rows) {
    if (dialect === 'sqlite') {
      for (const r of rows)
        await sqlite.upsert(tx, {
          kind: r.kind as string,
          id: r.id as string,
          title: r.title as string,
          body: r.body as string,
          now: r.updated_at as number,
        });
      return;
    }
    for (let i = 0; i < rows.length; i += 500) {
      const slice = rows.slice(i, i + 500);
      await tx.run(
        `INSERT INTO search_documents (kind, id, updated_at, title, body, document) VALUES ${slice
          .map(
            () =>
              "(?, ?, ?, ?, ?, setweight(to_tsvector('english', ?), 'A') || setweight(to_tsvector('english', ?), 'B'))",
          )
          .join(', ')}
         ON CONFLICT (kind, id) DO UPDATE SET updated_at = excluded.updated_at, title = excluded.title,
           body = excluded.body, document = excluded.document`,
        slice.flatMap((r) => [r.kind, r.id, r.updated_at, r.title, r.body, r.title, r.body] as Param[]),
      );
    }
  },
  async remove(tx, dialect, keys) {
    for (const [kind, id] of keys) await SEARCH_QUERIES[dialect].remove(tx, kind as string, id as string);
  },
};

/** `kind, id, updated_at, title, body FROM …` of every document, aliased `d`. */
function canonicalColumns(dialect: Dialect): string {
  if (dialect === 'postgres') return 'd.kind, d.id, d.updated_at, d.title, d.body FROM search_documents d';
  const joins = Object.entries(FTS).map(
    ([kind, table], i) => `LEFT JOIN ${table} f${i} ON d.kind = '${kind}' AND f${i}.rowid = d.doc_rowid`,
  );
  const pick = (column: string) =>
    `COALESCE(${Object.keys(FTS)
      .map((_, i) => `f${i}.${column}`)
      .join(', ')}) AS ${column}`;
  return `d.kind, d.id, d.updated_at, ${pick('title')}, ${pick('body')} FROM search_documents d ${joins.join(' ')}`;
}
