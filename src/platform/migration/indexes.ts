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
 * resume or an abort builds them again from there.
 */
export interface DeferredIndex {
  name: string;
  table: string;
  sql: string;
}

const DEFERRED = 'deferred_indexes';

async function secondaryIndexes(store: Store, tables: ReadonlySet<string>): Promise<DeferredIndex[]> {
  const all =
    store.dialect === 'sqlite'
      ? await store.q.all<DeferredIndex>(
          `SELECT m.name AS name, m.tbl_name AS "table", m.sql AS sql
           FROM sqlite_master m JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name
           WHERE m.type = 'index' AND m.sql IS NOT NULL AND l."unique" = 0 ORDER BY m.name`,
        )
      : await store.q.all<DeferredIndex>(
          `SELECT c.relname AS name, t.relname AS "table", pg_get_indexdef(i.indexrelid) AS sql
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           WHERE n.nspname = current_schema() AND NOT i.indisunique AND NOT i.indisprimary ORDER BY c.relname`,
        );
  return all.filter((index) => tables.has(index.table));
}

/** Drops the destination's non-unique indexes on these tables, keeping their definitions; how many. */
export async function deferIndexes(store: Store, tables: readonly string[]): Promise<number> {
  if (await readState(store, DEFERRED)) return 0; // already deferred (a resumed start)
  const indexes = await secondaryIndexes(store, new Set(tables));
  if (indexes.length === 0) return 0;
  await store.write(async (tx) => {
    await tx.run(SAVE_STATE, [DEFERRED, JSON.stringify(indexes)]);
    for (const index of indexes) await tx.exec(`DROP INDEX ${index.name}`);
  });
  return indexes.length;
}

/** Builds the deferred indexes again (those not built yet) and forgets them; how many were built. */
export async function restoreIndexes(store: Store): Promise<number> {
  const indexes = await readState<DeferredIndex[]>(store, DEFERRED);
  if (!indexes) return 0;
  let built = 0;
  for (const index of indexes) {
    const exists =
      store.dialect === 'sqlite'
        ? await store.q.get(`SELECT 1 AS x FROM sqlite_master WHERE type = 'index' AND name = ?`, [index.name])
        : await store.q.get(
            `SELECT 1 AS x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = ? AND n.nspname = current_schema()`,
            [index.name],
          );
    if (exists) continue;
    await store.write(async (tx) => {
      if (store.dialect === 'postgres') await tx.exec(`SET LOCAL maintenance_work_mem = '256MB'`);
      await tx.exec(index.sql);
    });
    built++;
  }
  await store.write((tx) => tx.run(`DELETE FROM ${STATE_TABLE} WHERE name = ?`, [DEFERRED]));
  return built;
}
