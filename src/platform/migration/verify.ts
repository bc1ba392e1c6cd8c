import { createHash } from 'node:crypto';
import type { Store } from '../store/index.js';
import { chunksOf, keyOf, readKeys, type Key, type Row } from './copy.js';
import type { TableShape } from './schema.js';

export interface TableVerdict {
  name: string;
  sourceRows: number;
  targetRows: number;
  mismatches: number;
  /** The first mismatching keys (a row missing, extra, or different on the target). */
  keys: Key[];
}

/**
 * A row as the same bytes from either store: integers and floats as JSON
 * numbers (both stores hold the same IEEE doubles), text exactly, bytes as
 * hex, NULL as null, in the table's column order.
 */
export function canonical(table: TableShape, row: Row): string {
  return JSON.stringify(
    table.columns.map((c) => {
      const v = row[c];
      if (v instanceof Uint8Array) return `x:${Buffer.from(v).toString('hex')}`;
      if (typeof v === 'bigint') return Number(v);
      return v ?? null;
    }),
  );
}

const digest = (lines: readonly string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');
const MAX_KEYS = 20;

/**
 * Compares a table on two stores: the source's rows in primary-key chunks,
 * each chunk's checksum against the target's rows of the same keys, narrowed
 * to the rows when they differ; then the target's keys the source lacks. Each
 * store orders its own chunks, so their collations never have to agree.
 */
export async function verifyTable(
  source: Store,
  target: Store,
  table: TableShape,
  chunk = 1000,
): Promise<TableVerdict> {
  const verdict: TableVerdict = { name: table.name, sourceRows: 0, targetRows: 0, mismatches: 0, keys: [] };
  const differ = (key: Key) => {
    verdict.mismatches++;
    if (verdict.keys.length < MAX_KEYS) verdict.keys.push(key);
  };
  const sameKey = (rows: readonly Row[], other: Store) =>
    readKeys(
      other,
      table,
      rows.map((r) => keyOf(table, r)),
    );
  for await (const { rows } of chunksOf(source, table, chunk)) {
    verdict.sourceRows += rows.length;
    const theirs = new Map(
      (await sameKey(rows, target)).map((r) => [JSON.stringify(keyOf(table, r)), canonical(table, r)]),
    );
    const mine = rows.map((r) => canonical(table, r));
    const matched = rows.map((r) => theirs.get(JSON.stringify(keyOf(table, r))) ?? '');
    if (digest(mine) !== digest(matched))
      rows.forEach((r, i) => {
        if (mine[i] !== matched[i]) differ(keyOf(table, r));
      });
  }
  for await (const { rows } of chunksOf(target, table, chunk)) {
    verdict.targetRows += rows.length;
    const known = new Set((await sameKey(rows, source)).map((r) => JSON.stringify(keyOf(table, r))));
    for (const r of rows) if (!known.has(JSON.stringify(keyOf(table, r)))) differ(keyOf(table, r));
  }
  return verdict;
}
