import type { Dialect, Param, Store, Tx } from '../store/index.js';

/**
 * Moving rows between two stores by primary key: the copy's chunks, the
 * applier's upserts and deletes. Rows are written whole (every column) and
 * keyed on the primary key only: writing a row twice changes nothing, and a
 * conflict on any other unique key fails the write — it never deletes or
 * skips a row to make room.
 */

/** A table as the live schema has it: its columns in order and its primary key. */
export interface TableShape {
  name: string;
  columns: string[];
  primaryKey: string[];
}

export type Key = unknown[];
export type Row = Record<string, unknown>;

/**
 * One table as the migration moves it: its canonical columns (the same on
 * both stores) and how rows are read and written by primary key. Most tables
 * are plain (`plainTable`, generated from the live schema); a module whose
 * table is laid out differently on each dialect (search's documents) gives
 * its own, reading and writing the same canonical rows.
 */
export interface MigratedTable {
  readonly name: string;
  readonly primaryKey: readonly string[];
  readonly columns: readonly string[];
  /**
   * The next `limit` rows after `after` (null: from the start) up to `until`
   * (null: to the end), in the store's primary-key order.
   */
  readChunk(store: Store, after: Key | null, limit: number, until?: Key | null): Promise<Row[]>;
  /** The current rows of these keys (a key whose row is gone is absent). */
  readKeys(store: Store, keys: readonly Key[]): Promise<Row[]>;
  /** Writes whole rows: insert, or replace every other column. */
  upsert(tx: Tx, dialect: Dialect, rows: readonly Row[]): Promise<void>;
  /**
   * The copy's fast path, when a table has it: the rows after `after` up to
   * `until`, at most `limit` (null: all of them), as one text in `format`
   * that the store builds itself; `last` is where the next slice starts. No
   * row becomes an object in this process: the text goes from one store's
   * engine to the other's.
   */
  readSlice?(store: Store, after: Key | null, limit: number | null, until: Key, format: SliceFormat): Promise<Slice>;
  /**
   * Writes a slice's rows: a JSON slice as `upsert` does; a COPY slice
   * (PostgreSQL's `Tx.copyIn`) only into keys the table does not have yet —
   * one it has fails the write as a `unique` StoreError, the transaction
   * going on as before it.
   */
  upsertSlice?(tx: Tx, dialect: Dialect, slice: Slice): Promise<void>;
  /** Deletes rows by primary key. */
  remove(tx: Tx, dialect: Dialect, keys: readonly Key[]): Promise<void>;
}

/**
 * How a slice's rows are written out: `json`, an array of objects keyed by
 * column name (either store takes it apart); `copy`, CSV as PostgreSQL's
 * COPY takes it (a line a row, text quoted by `'`, NULL unquoted), which
 * PostgreSQL reads at a third of the cost of the JSON's upsert
 * (bench/copy-paths.mjs).
 */
export type SliceFormat = 'json' | 'copy';

export interface Slice {
  format: SliceFormat;
  /** UTF-8 text, as a string or as its bytes. */
  text: string | Uint8Array;
  count: number;
  last: Key;
}

/** The most parameters one statement takes (under SQLite's 32,766 and PostgreSQL's 65,535). */
const MAX_PARAMS = 30_000;
/** Keys looked up per statement. */
const KEYS_PER_STATEMENT = 512;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Splits `n` into powers of two (37 → 32, 4, 1): statements are prepared once
 * per text on PostgreSQL, so a few sizes per table are prepared instead of
 * one per batch length.
 */
export function sizes(n: number, max: number): number[] {
  const out: number[] = [];
  let top = 1;
  while (top * 2 <= max) top *= 2;
  for (let left = n; left > 0;) {
    let size = top;
    while (size > left) size /= 2;
    out.push(size);
    left -= size;
  }
  return out;
}

function* slices<T>(items: readonly T[], max: number): Generator<T[]> {
  let at = 0;
  for (const size of sizes(items.length, max)) {
    yield items.slice(at, at + size);
    at += size;
  }
}

export const keyOf = (table: Pick<MigratedTable, 'primaryKey'>, row: Row): Key => table.primaryKey.map((c) => row[c]);

/** The WHERE clause matching any of `count` keys. */
function matchKeys(primaryKey: readonly string[], count: number): string {
  if (primaryKey.length === 1) return `${primaryKey[0]} IN (${placeholders(count)})`;
  const one = `(${primaryKey.map((c) => `${c} = ?`).join(' AND ')})`;
  return Array.from({ length: count }, () => one).join(' OR ');
}

/** `WHERE (key) > (after) AND (key) <= (until)`, either side left out when null; columns prefixed by `alias`. */
export function keyRange(
  primaryKey: readonly string[],
  after: Key | null,
  until: Key | null,
  alias = '',
): { where: string; params: Param[] } {
  const key = `(${primaryKey.map((c) => alias + c).join(', ')})`;
  const parts: string[] = [];
  const params: Param[] = [];
  if (after) {
    parts.push(`${key} > (${placeholders(after.length)})`);
    params.push(...(after as Param[]));
  }
  if (until) {
    parts.push(`${key} <= (${placeholders(until.length)})`);
    params.push(...(until as Param[]));
  }
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** The largest primary key of a table now (null when empty): a copy's end, fixed when capture has begun. */
export async function lastKey(store: Store, table: Pick<MigratedTable, 'name' | 'primaryKey'>): Promise<Key | null> {
  const from = await keyOrdered(store, table.name);
  const row = await store.q.get<Row>(
    `SELECT ${table.primaryKey.join(', ')} FROM ${from} ORDER BY ${table.primaryKey.map((c) => `${c} DESC`).join(', ')} LIMIT 1`,
  );
  return row ? keyOf(table, row) : null;
}

const keyIndexes = new WeakMap<Store, Map<string, string>>();

/**
 * The FROM of a keyset read: on SQLite `table INDEXED BY` its primary key's
 * index, on PostgreSQL the table. A keyset read must walk the key's own
 * index: with the statistics of a busy site, SQLite's planner may pick a
 * secondary index that skip-scans and sorts (votes: a chunk read cost ten
 * times the write), and a full table sort per chunk is quadratic.
 */
async function keyOrdered(store: Store, table: string): Promise<string> {
  if (store.dialect !== 'sqlite') return table;
  let known = keyIndexes.get(store);
  if (!known) keyIndexes.set(store, (known = new Map()));
  let from = known.get(table);
  if (from === undefined) {
    const index = await store.q.get<{ name: string }>(`SELECT name FROM pragma_index_list(?) WHERE origin = 'pk'`, [
      table,
    ]);
    // No such index: the key is the rowid, which the table is stored in order of.
    from = index ? `${table} INDEXED BY ${index.name}` : table;
    known.set(table, from);
  }
  return from;
}

/** A table laid out alike on both stores, read and written by the generic SQL below. */
export function plainTable(shape: TableShape): MigratedTable {
  const columns = shape.columns.join(', ');
  const order = shape.primaryKey.join(', ');
  const others = shape.columns.filter((c) => !shape.primaryKey.includes(c));
  const onConflict =
    others.length === 0
      ? `ON CONFLICT (${order}) DO NOTHING`
      : `ON CONFLICT (${order}) DO UPDATE SET ${others.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  const perKey = shape.primaryKey.length;
  // A slice's rows built by each engine from its own rows, and taken apart by the other's.
  const named = shape.columns.map((c) => `'${c}', ${c}`).join(', ');
  // As bytes: moved from the source's worker thread to the target's (or the SQLite writer) without becoming a string.
  const asJson: Record<Dialect, string> = {
    sqlite: `CAST(json_group_array(json_object(${named})) AS BLOB)`,
    postgres: `convert_to(COALESCE(json_agg(json_build_object(${named})), '[]')::text, 'UTF8')`,
  };
  // COPY's CSV, quoted by ' and NULL written NULL (unquoted). SQLite's quote() writes each value so in one call: text
  // quoted with its quotes doubled, numbers unquoted as text that reads back the same. On PostgreSQL every value is
  // quoted, as its text.
  const quoted: Record<Dialect, (c: string) => string> = {
    sqlite: (c) => `quote(${c})`,
    postgres: (c) => `CASE WHEN ${c} IS NULL THEN 'NULL' ELSE '''' || replace(${c}::text, '''', '''''') || '''' END`,
  };
  const lines = (dialect: Dialect, agg: string, nl: string) =>
    `COALESCE(${agg}(concat_ws(',', ${shape.columns.map(quoted[dialect]).join(', ')}), ${nl}) || ${nl}, '')`;
  const asCopy: Record<Dialect, string> = {
    sqlite: `CAST(${lines('sqlite', 'group_concat', 'char(10)')} AS BLOB)`,
    postgres: `convert_to(${lines('postgres', 'string_agg', 'chr(10)')}, 'UTF8')`,
  };
  const build = { json: asJson, copy: asCopy };
  const copySql = `COPY ${shape.name} (${columns}) FROM STDIN WITH (FORMAT csv, QUOTE '''', NULL 'NULL')`;
  const fromJson: Record<Dialect, string> = {
    sqlite: `SELECT ${shape.columns.map((c) => `value ->> '$.${c}'`).join(', ')} FROM json_each(?) WHERE true`,
    postgres: `SELECT ${columns} FROM json_populate_recordset(NULL::${shape.name}, ?::json)`,
  };
  return {
    name: shape.name,
    primaryKey: shape.primaryKey,
    columns: shape.columns,
    async readChunk(store, after, limit, until = null) {
      const { where, params } = keyRange(shape.primaryKey, after, until);
      const from = await keyOrdered(store, shape.name);
      return store.q.all<Row>(`SELECT ${columns} FROM ${from} ${where} ORDER BY ${order} LIMIT ?`, [...params, limit]);
    },
    async readSlice(store, after, limit, until, format) {
      const from = await keyOrdered(store, shape.name);
      // Where the slice ends: the limit-th key (a walk of the key's index), or the copy's end when fewer are left.
      const range = keyRange(shape.primaryKey, after, until);
      const end =
        limit === null
          ? undefined
          : await store.bulk.get<Row>(
              `SELECT ${order} FROM ${from} ${range.where} ORDER BY ${order} LIMIT 1 OFFSET ?`,
              [...range.params, limit - 1],
            );
      const last = end ? keyOf(shape, end) : until;
      const { where, params } = keyRange(shape.primaryKey, after, last);
      const read = await store.bulk.get<{ text: string | Uint8Array; count: number }>(
        `SELECT ${build[format][store.dialect]} AS text, COUNT(*) AS count FROM ${from} ${where}`,
        params,
      );
      return { format, text: read?.text ?? (format === 'json' ? '[]' : ''), count: read?.count ?? 0, last };
    },
    async upsertSlice(tx, dialect, slice) {
      if (slice.count === 0) return;
      if (slice.format === 'copy') {
        if (!tx.copyIn) throw new Error(`a COPY slice of ${shape.name} written where COPY is not taken`);
        const bytes = typeof slice.text === 'string' ? Buffer.from(slice.text) : slice.text;
        await tx.copyIn(copySql, bytes);
        return;
      }
      // SQLite reads a blob as its own binary JSON: it is given the text.
      const json =
        dialect === 'sqlite' && typeof slice.text !== 'string' ? Buffer.from(slice.text).toString() : slice.text;
      await tx.run(`INSERT INTO ${shape.name} (${columns}) ${fromJson[dialect]} ${onConflict}`, [json]);
    },
    async readKeys(store, keys) {
      const out: Row[] = [];
      for (const slice of slices(keys, Math.floor(KEYS_PER_STATEMENT / perKey)))
        out.push(
          ...(await store.q.all<Row>(
            `SELECT ${columns} FROM ${shape.name} WHERE ${matchKeys(shape.primaryKey, slice.length)}`,
            slice.flat() as Param[],
          )),
        );
      return out;
    },
    async upsert(tx, _dialect, rows) {
      const row = `(${placeholders(shape.columns.length)})`;
      for (const slice of slices(rows, Math.floor(MAX_PARAMS / shape.columns.length)))
        await tx.run(
          `INSERT INTO ${shape.name} (${columns}) VALUES ${slice.map(() => row).join(', ')} ${onConflict}`,
          slice.flatMap((r) => shape.columns.map((c) => r[c] as Param)),
        );
    },
    async remove(tx, _dialect, keys) {
      for (const slice of slices(keys, Math.floor(KEYS_PER_STATEMENT / perKey)))
        await tx.run(
          `DELETE FROM ${shape.name} WHERE ${matchKeys(shape.primaryKey, slice.length)}`,
          slice.flat() as Param[],
        );
    },
  };
}

/** A table's rows in primary-key chunks, from after `after` to the end (each store orders its own). */
export async function* chunksOf(store: Store, table: MigratedTable, size: number, after: Key | null = null) {
  for (;;) {
    const rows = await table.readChunk(store, after, size, null);
    if (rows.length === 0) return;
    after = keyOf(table, rows[rows.length - 1] as Row);
    yield { rows, last: after };
  }
}
