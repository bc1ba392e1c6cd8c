import { createHash } from 'node:crypto';
import type { Store } from '../store/index.js';
import { chunksOf, keyOf, type Key, type MigratedTable, type Row } from './copy.js';

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
export function canonical(table: Pick<MigratedTable, 'columns'>, row: Row): string {
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
/** Keys a report names per table. */
export const REPORTED_KEYS = 20;
/** Mismatching keys kept per table to be checked again once the log has passed them. */
const KEPT_KEYS = 10_000;

export interface TableComparison extends TableVerdict {
  /** Every mismatching key found, up to 10,000 (`mismatches` counts them all). */
  differing: Key[];
}

/**
 * Compares a table on two stores: the source's rows in primary-key chunks,
 * each chunk's checksum against the target's rows of the same keys, narrowed
 * to the rows when they differ; then the target's keys the source lacks. Each
 * store orders its own chunks, so their collations never have to agree.
 */
export async function verifyTable(
  source: Store,
  target: Store,
  table: MigratedTable,
  chunk = 1000,
): Promise<TableComparison> {
  const verdict: TableComparison = {
    name: table.name,
    sourceRows: 0,
    targetRows: 0,
    mismatches: 0,
    keys: [],
    differing: [],
  };
  const differ = (key: Key) => {
    verdict.mismatches++;
    if (verdict.keys.length < REPORTED_KEYS) verdict.keys.push(key);
    if (verdict.differing.length < KEPT_KEYS) verdict.differing.push(key);
  };
  const sameKey = (rows: readonly Row[], other: Store) =>
    table.readKeys(
      other,
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

/** The keys among `keys` whose rows differ between the stores now (missing on one side counts). */
export async function differingKeys(
  source: Store,
  target: Store,
  table: MigratedTable,
  keys: readonly Key[],
): Promise<Key[]> {
  if (keys.length === 0) return [];
  const [mine, theirs] = await Promise.all([table.readKeys(source, keys), table.readKeys(target, keys)]);
  const encoded = (rows: Row[]) => new Map(rows.map((r) => [JSON.stringify(keyOf(table, r)), canonical(table, r)]));
  const a = encoded(mine);
  const b = encoded(theirs);
  return keys.filter((k) => a.get(JSON.stringify(k)) !== b.get(JSON.stringify(k)));
}
