import type { Param, Store, Tx } from '../store/index.js';
import type { TableShape } from './schema.js';

/**
 * Moving rows between two stores by primary key: the copy's chunks, the
 * applier's upserts and deletes. Rows are written whole (every column) and
 * keyed on the primary key only: writing a row twice changes nothing, and a
 * conflict on any other unique key fails the write — it never deletes or
 * skips a row to make room.
 */

/** The most parameters one statement takes (under SQLite's 32,766 and PostgreSQL's 65,535). */
const MAX_PARAMS = 30_000;

export type Key = unknown[];
export type Row = Record<string, unknown>;

const keyList = (t: TableShape) => t.primaryKey.join(', ');
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** The next `limit` rows of a table after `after` (null: from the start), in primary-key order. */
export async function readChunk(store: Store, table: TableShape, after: Key | null, limit: number): Promise<Row[]> {
  const columns = table.columns.join(', ');
  const order = keyList(table);
  if (after === null)
    return store.q.all<Row>(`SELECT ${columns} FROM ${table.name} ORDER BY ${order} LIMIT ?`, [limit]);
  return store.q.all<Row>(
    `SELECT ${columns} FROM ${table.name} WHERE (${order}) > (${placeholders(after.length)}) ORDER BY ${order} LIMIT ?`,
    [...(after as Param[]), limit],
  );
}

/** A table's rows in primary-key chunks, from after `after` to the end (each store orders its own). */
export async function* chunksOf(store: Store, table: TableShape, size: number, after: Key | null = null) {
  for (;;) {
    const rows = await readChunk(store, table, after, size);
    if (rows.length === 0) return;
    after = keyOf(table, rows[rows.length - 1] as Row);
    yield { rows, last: after };
  }
}

/** The current rows of these keys (a key whose row is gone is absent). */
export async function readKeys(store: Store, table: TableShape, keys: readonly Key[]): Promise<Row[]> {
  const out: Row[] = [];
  const perKey = table.primaryKey.length;
  const match = `(${table.primaryKey.map((c) => `${c} = ?`).join(' AND ')})`;
  const step = Math.max(1, Math.floor(500 / perKey));
  for (let i = 0; i < keys.length; i += step) {
    const slice = keys.slice(i, i + step);
    out.push(
      ...(await store.q.all<Row>(
        `SELECT ${table.columns.join(', ')} FROM ${table.name} WHERE ${slice.map(() => match).join(' OR ')}`,
        slice.flat() as Param[],
      )),
    );
  }
  return out;
}

export const keyOf = (table: TableShape, row: Row): Key => table.primaryKey.map((c) => row[c]);

/** Writes whole rows by primary key (insert, or replace every other column), a few statements per call. */
export async function upsertRows(tx: Tx, table: TableShape, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const others = table.columns.filter((c) => !table.primaryKey.includes(c));
  const onConflict =
    others.length === 0
      ? `ON CONFLICT (${keyList(table)}) DO NOTHING`
      : `ON CONFLICT (${keyList(table)}) DO UPDATE SET ${others.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / table.columns.length));
  const row = `(${placeholders(table.columns.length)})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const slice = rows.slice(i, i + perStatement);
    await tx.run(
      `INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES ${slice.map(() => row).join(', ')} ${onConflict}`,
      slice.flatMap((r) => table.columns.map((c) => r[c] as Param)),
    );
  }
}

/** Deletes rows by primary key. */
export async function deleteKeys(tx: Tx, table: TableShape, keys: readonly Key[]): Promise<void> {
  const match = `(${table.primaryKey.map((c) => `${c} = ?`).join(' AND ')})`;
  const step = Math.max(1, Math.floor(500 / table.primaryKey.length));
  for (let i = 0; i < keys.length; i += step) {
    const slice = keys.slice(i, i + step);
    await tx.run(`DELETE FROM ${table.name} WHERE ${slice.map(() => match).join(' OR ')}`, slice.flat() as Param[]);
  }
}

/** Copies a table in primary-key chunks, each in its own target transaction; `onChunk` sees each chunk's last key. */
export async function copyTable(
  source: Store,
  target: Store,
  table: TableShape,
  options: { chunk: number; after?: Key | null; onChunk?: (last: Key, rows: number) => void | Promise<void> },
): Promise<number> {
  let copied = 0;
  for await (const { rows, last } of chunksOf(source, table, options.chunk, options.after ?? null)) {
    await target.write((tx) => upsertRows(tx, table, rows));
    copied += rows.length;
    await options.onChunk?.(last, rows.length);
  }
  return copied;
}
