import { StoreError, type Store } from '../store/index.js';
import { changesAfter, type LogPosition } from './capture.js';
import { keyOf, type Key, type MigratedTable, type Row } from './copy.js';

/** The migration's bookkeeping in a store: the applied position, written with the rows it covers. */
export const STATE_TABLE = 'migration_state';

export async function ensureState(store: Store): Promise<void> {
  await store.write((tx) =>
    tx.exec(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)`),
  );
}

export async function readState<T>(store: Pick<Store, 'q'>, name: string): Promise<T | null> {
  const row = await store.q.get<{ value: string }>(`SELECT value FROM ${STATE_TABLE} WHERE name = ?`, [name]);
  return row ? (JSON.parse(row.value) as T) : null;
}

export const SAVE_STATE = `INSERT INTO ${STATE_TABLE} (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`;

/** A row the target refused on a unique key other than its primary key: the migration stops, naming it. */
export class ConflictError extends Error {
  constructor(
    readonly table: string,
    readonly key: Key,
    cause: unknown,
  ) {
    super(`${table} ${JSON.stringify(key)}: conflicts on a unique key other than the primary key`, { cause });
    this.name = 'ConflictError';
  }
}

/**
 * Applies the next changes of the source's log to the target: each changed
 * key's current source row is written whole (or deleted when gone), and the
 * position after them is stored in the target in the same transaction — a
 * crash resumes exactly there, and applying a change twice changes nothing.
 * Rows are written in the order their tables first appear in the log (a
 * parent before the child that refers to it), deletes in the reverse order.
 */
export async function applyNext(
  source: Store,
  target: Store,
  tables: ReadonlyMap<string, MigratedTable>,
  from: LogPosition,
  limit: number,
): Promise<Applied> {
  const changes = await changesAfter(source, from, limit);
  const last = changes[changes.length - 1];
  if (!last) return { applied: 0, position: from, oldestAt: null, keys: new Map() };
  const order: string[] = [];
  const keys = new Map<string, Map<string, Key>>();
  for (const change of changes) {
    if (!tables.has(change.table)) throw new Error(`the change log names ${change.table}, a table not being migrated`);
    let of = keys.get(change.table);
    if (!of) {
      of = new Map();
      keys.set(change.table, of);
      order.push(change.table);
    }
    of.set(JSON.stringify(change.key), change.key);
  }
  const present = new Map<string, Row[]>();
  const gone = new Map<string, Key[]>();
  for (const name of order) {
    const shape = tables.get(name) as MigratedTable;
    const wanted = keys.get(name) as Map<string, Key>;
    const rows = await shape.readKeys(source, [...wanted.values()]);
    const found = new Set(rows.map((r) => JSON.stringify(keyOf(shape, r))));
    present.set(name, rows);
    gone.set(
      name,
      [...wanted].filter(([k]) => !found.has(k)).map(([, key]) => key),
    );
  }
  const position: LogPosition = { txid: last.txid, seq: last.seq };
  try {
    await target.write(async (tx) => {
      for (const name of order) {
        const rows = present.get(name) ?? [];
        if (rows.length > 0) await (tables.get(name) as MigratedTable).upsert(tx, target.dialect, rows);
      }
      for (const name of [...order].reverse()) {
        const keys = gone.get(name) ?? [];
        if (keys.length > 0) await (tables.get(name) as MigratedTable).remove(tx, target.dialect, keys);
      }
      await tx.run(SAVE_STATE, ['applied', JSON.stringify(position)]);
    });
  } catch (error) {
    if (error instanceof StoreError && error.kind === 'unique')
      throw await conflicting(target, tables, order, present, error);
    throw error;
  }
  return { applied: changes.length, position, oldestAt: changes[0]?.at ?? null, keys };
}

export interface Applied {
  /** Changes read from the log (0: it was empty up to what can be read). */
  applied: number;
  position: LogPosition;
  /** When the first of them was made (ms), null when none. */
  oldestAt: number | null;
  /** The keys written or deleted, per table (JSON of the key → the key). */
  keys: Map<string, Map<string, Key>>;
}

/** Which row the target refused: each written alone (a row the source holds now is right to write anyway). */
async function conflicting(
  target: Store,
  tables: ReadonlyMap<string, MigratedTable>,
  order: readonly string[],
  present: ReadonlyMap<string, Row[]>,
  error: StoreError,
): Promise<Error> {
  for (const name of order) {
    const shape = tables.get(name) as MigratedTable;
    for (const row of present.get(name) ?? []) {
      try {
        await target.write((tx) => shape.upsert(tx, target.dialect, [row]));
      } catch (alone) {
        if (alone instanceof StoreError && alone.kind === 'unique')
          return new ConflictError(name, keyOf(shape, row), alone);
      }
    }
  }
  return error;
}
