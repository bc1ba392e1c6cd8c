import type { Store } from '../store/index.js';
import { readState, SAVE_STATE, STATE_TABLE } from './apply.js';

/**
 * The destination's secondary indexes while the copy fills it: the
 * non-unique ones are dropped before the first row and built once the copy
 * is done (as pg_restore and pgloader do) — maintaining them row by row was
 * a third of the copy's time. Unique indexes stay, so a conflict on another
 * unique key still stops the copy at the row. Their definitions (the
 * store's own, from its catalogue) are kept in the destination's
 * `migration_state` in the transaction that drops them, so a crash, a
 * resume or an abort builds them again from there. They are built one at a
 * time and, on PostgreSQL, without parallel workers: a parallel build took
 * every core of a small machine for seconds while the site served (the
 * backfill bench's reads: event-loop stalls of 150–250 ms, p99 ratio 3.98
 * against 2.66 built serially).
 */
export interface DeferredIndex {
  name: string;
  table: string;
  sql: string;
}

const DEFERRED = 'deferred_indexes';

/** Every index of the store's schema, from its catalogue. */
async function catalogue(store: Store): Promise<(DeferredIndex & { unique: boolean })[]> {
  const rows =
    store.dialect === 'sqlite'
      ? await store.q.all<DeferredIndex & { unique: number | boolean }>(
          `SELECT m.name AS name, m.tbl_name AS "table", m.sql AS sql, l."unique" AS "unique"
           FROM sqlite_master m JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name
           WHERE m.type = 'index' ORDER BY m.name`,
        )
      : await store.q.all<DeferredIndex & { unique: number | boolean }>(
          `SELECT c.relname AS name, t.relname AS "table", pg_get_indexdef(i.indexrelid) AS sql,
             (i.indisunique OR i.indisprimary) AS "unique"
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           WHERE n.nspname = current_schema() ORDER BY c.relname`,
        );
  return rows.map((r) => ({ ...r, unique: Boolean(r.unique) }));
}

/** Drops the destination's non-unique indexes on these tables, keeping their definitions; how many. */
export async function deferIndexes(store: Store, tables: readonly string[]): Promise<number> {
  if (await readState(store, DEFERRED)) return 0; // already deferred (a resumed start)
  const copied = new Set(tables);
  const indexes = (await catalogue(store))
    .filter((i) => !i.unique && i.sql !== null && copied.has(i.table))
    .map(({ name, table, sql }) => ({ name, table, sql }));
  if (indexes.length === 0) return 0;
  await store.write(async (tx) => {
    await tx.run(SAVE_STATE, [DEFERRED, JSON.stringify(indexes)]);
    for (const index of indexes) await tx.exec(`DROP INDEX ${index.name}`);
  });
  return indexes.length;
}

/**
 * Builds the deferred indexes again (those not built yet), at most `most` of
 * them, and forgets them once none is left; how many it built and how many
 * are left. The migrator builds one per step, so the change log is applied
 * between two builds and no backlog gathers while they run.
 */
export async function restoreIndexes(store: Store, most = Infinity): Promise<{ built: number; left: number }> {
  const indexes = await readState<DeferredIndex[]>(store, DEFERRED);
  if (!indexes) return { built: 0, left: 0 };
  const present = new Set((await catalogue(store)).map((i) => i.name));
  const missing = indexes.filter((index) => !present.has(index.name));
  let built = 0;
  for (const index of missing.slice(0, most)) {
    // Off the event loop: a SQLite destination builds it in its store's worker thread.
    await store.bulkWrite(async (tx) => {
      if (store.dialect === 'postgres')
        await tx.exec(`SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL max_parallel_maintenance_workers = 0`);
      await tx.exec(index.sql);
    });
    built++;
  }
  const left = missing.length - built;
  if (left === 0) await store.write((tx) => tx.run(`DELETE FROM ${STATE_TABLE} WHERE name = ?`, [DEFERRED]));
  return { built, left };
}
