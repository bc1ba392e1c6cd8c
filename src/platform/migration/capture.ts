import type { Store } from '../store/index.js';
import { liveTables, type TableShape } from './schema.js';

/**
 * Change capture for a live migration: triggers generated from the live
 * schema append every inserted, updated and deleted row's primary key to
 * `migration_changes` in the writing transaction itself — so a change is
 * logged if and only if it commits, and no module's code knows about it.
 * The log holds keys, not rows: the applier reads each key's current row from
 * the source (an upsert when it is there, a delete when it is gone), which is
 * idempotent and makes the order of a key's changes irrelevant.
 *
 * On SQLite (one writer) `seq` is commit order. On PostgreSQL it is not —
 * transactions take numbers in one order and commit in another — so each
 * change also records its transaction id (`txid_current()`), and a reader
 * reads in `(txid, seq)` order only the changes of transactions older than
 * the oldest one still running (`pg_snapshot_xmin`): those are all committed
 * or gone, so nothing can later appear behind the position read.
 */
export const CHANGE_LOG = 'migration_changes';
const TRIGGER = 'migration_capture';

const SQLITE_LOG = `CREATE TABLE IF NOT EXISTS ${CHANGE_LOG} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  txid INTEGER NOT NULL DEFAULT 0,
  table_name TEXT NOT NULL,
  pk TEXT NOT NULL,
  op TEXT NOT NULL,
  at INTEGER NOT NULL
)`;
const SQLITE_NOW = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

const POSTGRES_LOG = `CREATE TABLE IF NOT EXISTS ${CHANGE_LOG} (
  seq BIGSERIAL PRIMARY KEY,
  txid BIGINT NOT NULL,
  table_name TEXT NOT NULL,
  pk TEXT NOT NULL,
  op TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS ${CHANGE_LOG}_by_txid ON ${CHANGE_LOG} (txid, seq);
CREATE OR REPLACE FUNCTION ${TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_new jsonb;
  row_old jsonb;
  key_new jsonb := '[]'::jsonb;
  key_old jsonb := '[]'::jsonb;
  c text;
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
BEGIN
  IF TG_OP <> 'DELETE' THEN row_new := to_jsonb(NEW); END IF;
  IF TG_OP <> 'INSERT' THEN row_old := to_jsonb(OLD); END IF;
  FOREACH c IN ARRAY TG_ARGV LOOP
    IF row_new IS NOT NULL THEN key_new := key_new || jsonb_build_array(row_new -> c); END IF;
    IF row_old IS NOT NULL THEN key_old := key_old || jsonb_build_array(row_old -> c); END IF;
  END LOOP;
  IF row_old IS NOT NULL AND (row_new IS NULL OR key_old <> key_new) THEN
    INSERT INTO ${CHANGE_LOG} (txid, table_name, pk, op, at) VALUES (txid_current(), TG_TABLE_NAME, key_old::text, 'D', now_ms);
  END IF;
  IF row_new IS NOT NULL THEN
    INSERT INTO ${CHANGE_LOG} (txid, table_name, pk, op, at)
    VALUES (txid_current(), TG_TABLE_NAME, key_new::text, left(TG_OP, 1), now_ms);
  END IF;
  RETURN NULL;
END $$;`;

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/** The capture triggers of one table, in the store's dialect. */
function triggersOf(store: Store, table: TableShape): string {
  if (table.primaryKey.length === 0) throw new Error(`table ${table.name} has no primary key: it cannot be migrated`);
  if (store.dialect === 'postgres')
    return `CREATE OR REPLACE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${table.name}
FOR EACH ROW EXECUTE FUNCTION ${TRIGGER}(${quoted(table.primaryKey)});`;
  const key = (row: 'NEW' | 'OLD') => `json_array(${table.primaryKey.map((c) => `${row}.${c}`).join(', ')})`;
  const log = (row: 'NEW' | 'OLD', op: string) =>
    `INSERT INTO ${CHANGE_LOG} (table_name, pk, op, at) VALUES ('${table.name}', ${key(row)}, '${op}', ${SQLITE_NOW});`;
  const changedKey = table.primaryKey.map((c) => `OLD.${c} IS NOT NEW.${c}`).join(' OR ');
  const name = `${TRIGGER}_${table.name}`;
  return `CREATE TRIGGER IF NOT EXISTS ${name}_i AFTER INSERT ON ${table.name} BEGIN ${log('NEW', 'I')} END;
CREATE TRIGGER IF NOT EXISTS ${name}_u AFTER UPDATE ON ${table.name} BEGIN ${log('NEW', 'U')} END;
CREATE TRIGGER IF NOT EXISTS ${name}_k AFTER UPDATE ON ${table.name} WHEN ${changedKey} BEGIN ${log('OLD', 'D')} END;
CREATE TRIGGER IF NOT EXISTS ${name}_d AFTER DELETE ON ${table.name} BEGIN ${log('OLD', 'D')} END;`;
}

/** Installs the change log and a capture trigger on every table the migration moves (idempotent). */
export async function installCapture(store: Store): Promise<TableShape[]> {
  const tables = await liveTables(store);
  await store.write((tx) => tx.exec(store.dialect === 'postgres' ? POSTGRES_LOG : SQLITE_LOG));
  // A table at a time: each trigger waits only for that table's running writes, in no order another transaction could hold against it.
  for (const table of tables) await store.write((tx) => tx.exec(triggersOf(store, table)));
  return tables;
}

/** The tables that have capture triggers now. */
export async function capturedTables(store: Store): Promise<string[]> {
  const rows =
    store.dialect === 'postgres'
      ? await store.q.all<{ name: string }>(
          `SELECT DISTINCT event_object_table AS name FROM information_schema.triggers
           WHERE trigger_schema = current_schema() AND trigger_name = '${TRIGGER}' ORDER BY 1`,
        )
      : await store.q.all<{ name: string }>(
          `SELECT DISTINCT tbl_name AS name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '${TRIGGER}\\_%' ESCAPE '\\' ORDER BY 1`,
        );
  return rows.map((r) => r.name);
}

/** Removes every capture trigger and the change log (abort, finish). */
export async function removeCapture(store: Store): Promise<void> {
  const tables = await capturedTables(store);
  if (store.dialect === 'postgres') {
    for (const table of tables) await store.write((tx) => tx.exec(`DROP TRIGGER IF EXISTS ${TRIGGER} ON ${table}`));
    await store.write((tx) => tx.exec(`DROP FUNCTION IF EXISTS ${TRIGGER}(); DROP TABLE IF EXISTS ${CHANGE_LOG}`));
    return;
  }
  await store.write(async (tx) => {
    const triggers = await tx.all<{ name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '${TRIGGER}\\_%' ESCAPE '\\'`,
    );
    for (const { name } of triggers) await tx.exec(`DROP TRIGGER IF EXISTS ${name}`);
    await tx.exec(`DROP TABLE IF EXISTS ${CHANGE_LOG}`);
  });
}

/** One captured change: the table, the row's primary key values, and what happened. */
export interface Change {
  seq: number;
  txid: number;
  table: string;
  key: unknown[];
  op: 'I' | 'U' | 'D';
  at: number;
}

/** A place in the change log: everything up to it (in `(txid, seq)` order) has been read. */
export interface LogPosition {
  txid: number;
  seq: number;
}
export const LOG_START: LogPosition = { txid: 0, seq: 0 };

type ChangeRow = { seq: number; txid: number; table_name: string; pk: string; op: string; at: number };

/**
 * The next changes after `from`, in `(txid, seq)` order, that can never be
 * joined by an earlier one: on PostgreSQL only those of transactions older
 * than every transaction still running (a change of a running transaction,
 * or of one that commits later with a lower number, is read on a later
 * call — never skipped). On SQLite every transaction is one writer's, in
 * order, and `txid` is 0.
 */
export async function changesAfter(store: Store, from: LogPosition, limit: number): Promise<Change[]> {
  const rows =
    store.dialect === 'postgres'
      ? await store.q.all<ChangeRow>(
          `SELECT seq, txid, table_name, pk, op, at FROM ${CHANGE_LOG}
           WHERE (txid, seq) > (?, ?) AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
           ORDER BY txid, seq LIMIT ?`,
          [from.txid, from.seq, limit],
        )
      : await store.q.all<ChangeRow>(
          `SELECT seq, txid, table_name, pk, op, at FROM ${CHANGE_LOG} WHERE (txid, seq) > (?, ?) ORDER BY txid, seq LIMIT ?`,
          [from.txid, from.seq, limit],
        );
  return rows.map((r) => ({
    seq: r.seq,
    txid: r.txid,
    table: r.table_name,
    key: JSON.parse(r.pk) as unknown[],
    op: r.op as Change['op'],
    at: r.at,
  }));
}
