import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { StoreError, type Dialect, type Store, type StoreHandle, type Tx } from '../store/index.js';
import { applyNext, ConflictError, ensureState, readState, SAVE_STATE, STATE_TABLE } from './apply.js';
import { CHANGE_LOG, installCapture, LOG_START, removeCapture, type LogPosition } from './capture.js';
import { keyOf, lastKey, type Key, type MigratedTable, type Row } from './copy.js';
import { deferIndexes, restoreIndexes } from './indexes.js';
import {
  isRunning,
  readRecord,
  redactUrl,
  sameStore,
  targetIsPrimary,
  writeRecord,
  type MigrationRecord,
  type Phase,
  type VerifyReport,
} from './record.js';
import { migratedTables, SchemaMismatch } from './schema.js';
import { differingKeys, REPORTED_KEYS, verifyTable } from './verify.js';

/**
 * The live migration, run by the serving process (only it can pause its own
 * writes for under a second and swap its store). One loop moves rows from
 * the primary to the other store: while copying, a chunk of the current
 * table (keyset order, its progress written with the rows) and then the
 * change log's next batch; once copied, the log alone. Cutover pauses
 * writes, drains the log, re-checks the rows changed last, puts capture on
 * the target, swaps the handle and resumes; from then on the same loop runs
 * the other way (target → source) until `finish` retires the source or
 * `rollback` swaps back. Every step is resumable from what the stores hold:
 * the record (record.ts), each table's copy position and the applied
 * position, all written in the store they describe.
 */
export interface MigrationStatus {
  phase: Phase;
  source: string | null;
  target: string | null;
  startedAt: number | null;
  copiedRows: number;
  totalRows: number;
  rowsPerSecond: number;
  /** Seconds until the copy is done at the current rate (null when unknown or done). */
  etaSeconds: number | null;
  lag: { events: number; ms: number };
  tables: { name: string; rows: number; copied: number }[];
  verify: VerifyReport | null;
  cutover: { at: number; pauseMs: number } | null;
  error: string | null;
  /** Which way rows flow now: from the source to the target, or back after a cutover. */
  direction: 'source_to_target' | 'target_to_source' | null;
  /** Rows per copy chunk now (the throttle lowers it while the site's latency is up). */
  chunkRows: number;
  /** Whether this process runs the migration (another process may hold its lease). */
  runningHere: boolean;
}

export interface MigratorDeps {
  handle: StoreHandle;
  /** The URL of the store the process serves from. */
  url: string;
  /** Opens a store; `foreignKeys: false` for the side rows are written into (see the adapters). */
  open(url: string, options: { foreignKeys: boolean }): Store;
  /** Brings a store's schema to Agora's latest (its own migrations); refuses one ahead of this code. */
  prepare(store: Store): Promise<void>;
  /** Tables a module moves itself (laid out differently by dialect). */
  special: readonly MigratedTable[];
  log: Logger;
  /** The most lag (ms) at which a cutover may start (the rest drains inside the pause). */
  cutoverLagMs: number;
  /** Rows per copy chunk at most. */
  chunkRows?: number;
  /** Longest a cutover or rollback may hold writes while the log drains (ms). */
  drainLimitMs?: number;
  /** Called with what moved, for the metrics. */
  observe?: (event: { copied?: number; applied?: number; pauseMs?: number }) => void;
}

export interface Migrator {
  start(target: string): Promise<MigrationStatus>;
  status(): Promise<MigrationStatus>;
  verify(): Promise<VerifyReport>;
  cutover(): Promise<{ pauseMs: number }>;
  rollback(): Promise<{ pauseMs: number }>;
  finish(): Promise<void>;
  abort(): Promise<void>;
  /** Goes on with a migration the stores hold (at start-up). */
  resume(): Promise<void>;
  /** Resolves once every change captured before the call is applied (tests, benchmarks). */
  caughtUp(limitMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const LEASE = 'lease';
const LEASE_MS = 5000;
const APPLY_BATCH = 2000;
const RECENT_MS = 3000;
const RECENT_MAX = 20_000;

type Copied = { after: Key | null; copied: number; done: boolean };

/** One at a time: the loop's steps and the operator's commands. */
function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * Tables copied at once (the largest first): two transactions in flight keep
 * both the destination and this process busy while the other waits.
 */
const COPY_LANES = 2;
/** Connections a store the site is about to serve from opens before the switch. */
const WARM_CONNECTIONS = 8;
/** Rows per read of a copy chunk (a chunk is read in slices, each overlapping the write of the one before). */
const READ_ROWS = 512;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const transient = (error: unknown) =>
  error instanceof StoreError && ['unavailable', 'busy', 'serialization'].includes(error.kind);

export function createMigrator(deps: MigratorDeps): Migrator {
  const { handle, log } = deps;
  const maxChunk = deps.chunkRows ?? 2000;
  const owner = randomUUID();
  const exclusive = createMutex();

  let record: MigrationRecord | null = null;
  /** The non-primary store, opened for writing rows into it (foreign keys off). */
  let other: Store | null = null;
  let tables: MigratedTable[] = [];
  let byName = new Map<string, MigratedTable>();
  let position: LogPosition = LOG_START;
  const copied = new Map<string, Copied>();
  let running = false;
  let loop: Promise<void> | null = null;
  let leaseHeld = false;
  let chunk = maxChunk;
  /** Verifies running: the log is not cut back under them (their re-checks read it). */
  let verifying = 0;
  let lag = { events: 0, ms: 0 };
  const rate: { at: number; rows: number }[] = [];
  let copiedTotal = 0;
  /** Slices whose COPY met a row the change log had written first (rewritten as upserts). */
  let copyConflicts = 0;
  /** Keys applied in the last seconds (checked again inside a cutover's pause). */
  const recent = new Map<string, { table: string; key: Key; at: number }>();
  const throttle = createThrottle();

  const primary = () => handle.current;

  // ---- the record, written to the side that is primary afterwards first ----
  async function save(changes: Partial<MigrationRecord>, primaryFirst: 'source' | 'target'): Promise<void> {
    if (!record) throw new Error('no migration');
    const next: MigrationRecord = { ...record, ...changes, step: record.step + 1, updatedAt: Date.now() };
    const sides: Record<'source' | 'target', Store | null> = targetIsPrimary(record.phase)
      ? { source: other, target: primary() }
      : { source: primary(), target: other };
    const order: ('source' | 'target')[] = primaryFirst === 'source' ? ['source', 'target'] : ['target', 'source'];
    for (const role of order) {
      const store = sides[role];
      if (store) await writeRecord(store, next, role);
    }
    record = next;
  }

  // ---- the lease: one process runs the migration ----
  async function holdLease(store: Store): Promise<boolean> {
    const now = Date.now();
    const mine = JSON.stringify({ owner, until: now + LEASE_MS });
    return store.write(async (tx) => {
      const held = await tx.get<{ value: string }>(`SELECT value FROM ${STATE_TABLE} WHERE name = ?`, [LEASE]);
      if (!held) {
        await tx.run(SAVE_STATE, [LEASE, mine]);
        return true;
      }
      const lease = JSON.parse(held.value) as { owner: string; until: number };
      if (lease.owner !== owner && lease.until > now) return false;
      return (
        (await tx.run(`UPDATE ${STATE_TABLE} SET value = ? WHERE name = ? AND value = ?`, [
          mine,
          LEASE,
          held.value,
        ])) === 1
      );
    });
  }
  async function releaseLease(store: Store): Promise<void> {
    await store
      .write((tx) =>
        tx.run(`DELETE FROM ${STATE_TABLE} WHERE name = ? AND value LIKE ?`, [LEASE, `{"owner":"${owner}"%`]),
      )
      .catch(() => undefined);
    leaseHeld = false;
  }

  // ---- the loop ----
  /**
   * One chunk, written in one transaction with its position. It is read in
   * slices of READ_ROWS, each read while the slice before it is being
   * written: the reads overlap the target's work, and no single step holds
   * the event loop long (the site's requests wait for none of it).
   */
  async function copyChunk(table: MigratedTable, progress: Copied, to: Store): Promise<void> {
    const until = record?.tables.find((t) => t.name === table.name)?.until ?? null;
    // A table copied in slices (a few statements a chunk) is written by the target store's worker thread, off
    // the event loop; one copied row by row (search's documents: several statements a row on SQLite) by its
    // writer here, where a statement costs no round trip between threads.
    const transaction = <T>(fn: (tx: Tx) => Promise<T>) => (sliced(table) ? to.bulkWrite(fn) : to.write(fn));
    const next = await transaction(async (tx) => {
      // The chunk and its position commit together: if the target's server crashes before its WAL reaches
      // the disk, both are lost and the copy goes on from the position before. So no wait for that flush.
      if (to.dialect === 'postgres') await tx.run('SET LOCAL synchronous_commit = off');
      let after = progress.after;
      let count = 0;
      let writing: Promise<void> | null = null;
      while (until !== null && count < chunk) {
        const want = Math.min(READ_ROWS, chunk - count);
        const read = await readSlice(table, after, want, until, to);
        await writing;
        if (read.count === 0) break;
        writing = read.write(tx, to.dialect);
        writing.catch(() => undefined); // awaited below; not unhandled while the next slice is read
        after = read.last;
        count += read.count;
        if (read.count < want) break; // the table's end (or the copy's)
      }
      await writing;
      const saved: Copied = { after, copied: progress.copied + count, done: count === 0 };
      await tx.run(SAVE_STATE, [`copy:${table.name}`, JSON.stringify(saved)]);
      return saved;
    });
    copied.set(table.name, next);
    if (next.done) return;
    const count = next.copied - progress.copied;
    copiedTotal += count;
    rate.push({ at: Date.now(), rows: count });
    deps.observe?.({ copied: count });
  }

  /**
   * A slice of the copy: as one text when the table has that path (COPY's
   * format into PostgreSQL, JSON into SQLite), as rows otherwise. A row that
   * the change log has written to the target before its slice arrives makes
   * the COPY fail (it takes new keys only), and the slice's range is then
   * read again and upserted as JSON: rarely, since a chunk's rows are copied
   * once and only the ones changed before it are in the target already.
   */
  async function readSlice(table: MigratedTable, after: Key | null, want: number, until: Key, to: Store) {
    if (sliced(table)) {
      const slice = await table.readSlice(primary(), after, want, until, to.dialect === 'postgres' ? 'copy' : 'json');
      const write = async (tx: Tx, d: Dialect) => {
        try {
          await table.upsertSlice(tx, d, slice);
        } catch (error) {
          if (slice.format !== 'copy' || !(error instanceof StoreError) || error.kind !== 'unique') throw error;
          copyConflicts++;
          await table.upsertSlice(tx, d, await table.readSlice(primary(), after, null, slice.last, 'json'));
        }
      };
      return { count: slice.count, last: slice.last, write };
    }
    const rows = await table.readChunk(primary(), after, want, until);
    const last = rows.length > 0 ? keyOf(table, rows[rows.length - 1] as Row) : after;
    return { count: rows.length, last, write: (tx: Tx, d: Dialect) => table.upsert(tx, d, rows) };
  }

  async function applyBatch(to: Store): Promise<number> {
    const step = await applyNext(primary(), to, byName, position, APPLY_BATCH);
    if (step.applied === 0) return 0;
    position = step.position;
    const now = Date.now();
    for (const [table, keys] of step.keys)
      for (const [json, key] of keys) {
        recent.delete(`${table}:${json}`);
        recent.set(`${table}:${json}`, { table, key, at: now });
      }
    for (const [k, v] of recent) {
      if (v.at > now - RECENT_MS && recent.size <= RECENT_MAX) break;
      recent.delete(k);
    }
    deps.observe?.({ applied: step.applied });
    return step.applied;
  }

  /** One step of the loop; false when there was nothing to do. */
  async function step(): Promise<boolean> {
    const to = other;
    if (!record || !to) return false;
    let worked = false;
    if (record.phase === 'copying') {
      // The largest tables first, COPY_LANES at a time: each its own transaction on its own connection.
      const rows = (t: MigratedTable) => record?.tables.find((r) => r.name === t.name)?.rows ?? 0;
      const lanes = tables
        .filter((t) => !copied.get(t.name)?.done)
        .sort((a, b) => rows(b) - rows(a))
        .slice(0, COPY_LANES);
      if (lanes.length > 0) {
        const started = performance.now();
        await Promise.all(
          lanes.map((t) => copyChunk(t, copied.get(t.name) ?? { after: null, copied: 0, done: false }, to)),
        );
        chunk = await throttle.after(performance.now() - started, chunk, maxChunk);
        worked = true;
      } else {
        // One deferred index a step, the change log applied between two (below).
        const started = Date.now();
        const { built, left } = await restoreIndexes(to, 1);
        if (built > 0) log.info({ ms: Date.now() - started, left }, 'migration: a secondary index built');
        if (left === 0) {
          // Capture on the target too, ready for the cutover (PostgreSQL's replica role keeps the applier's writes out of it).
          await installCapture(to);
          await save({ phase: 'streaming', copiedAt: Date.now() }, 'source');
          log.info({ rows: copiedTotal, rewrittenSlices: copyConflicts }, 'migration: copy done, streaming changes');
        }
        worked = true;
      }
    }
    if ((await applyBatch(to)) > 0) worked = true;
    return worked;
  }

  async function measureLag(): Promise<void> {
    const store = primary();
    const behind = await store.q.get<{ n: number; oldest: number | null }>(
      `SELECT COUNT(*) AS n, MIN(at) AS oldest FROM ${CHANGE_LOG} WHERE (txid, seq) > (?, ?)`,
      [position.txid, position.seq],
    );
    lag = { events: behind?.n ?? 0, ms: behind?.oldest ? Math.max(0, Date.now() - behind.oldest) : 0 };
  }

  async function truncateLog(): Promise<void> {
    const store = primary();
    await store.write((tx) =>
      store.dialect === 'sqlite'
        ? tx.run(`DELETE FROM ${CHANGE_LOG} WHERE seq <= ?`, [position.seq])
        : tx.run(`DELETE FROM ${CHANGE_LOG} WHERE (txid, seq) <= (?, ?)`, [position.txid, position.seq]),
    );
    // A SQLite target logs the applier's own writes while streaming; nothing reads them.
    if (record?.phase === 'streaming' && other?.dialect === 'sqlite')
      await other.write((tx) => tx.run(`DELETE FROM ${CHANGE_LOG}`));
  }

  async function run(): Promise<void> {
    let leaseAt = 0;
    let lagAt = 0;
    let truncatedAt = Date.now();
    let failures = 0;
    while (running) {
      try {
        const now = Date.now();
        if (now - leaseAt > 1000) {
          leaseHeld = await holdLease(primary());
          leaseAt = now;
          if (!leaseHeld) {
            await sleep(1000);
            continue;
          }
        }
        const worked = await exclusive(step);
        if (!running) break;
        if (now - lagAt > 200) {
          await measureLag();
          lagAt = now;
        }
        if (now - truncatedAt > 2000 && verifying === 0) {
          await exclusive(truncateLog);
          truncatedAt = now;
        }
        failures = 0;
        if (!worked) await sleep(10);
      } catch (error) {
        if (!running) break;
        if (transient(error) && ++failures < 60) {
          log.warn({ err: error }, 'migration: a store is not answering; trying again');
          await sleep(1000);
          continue;
        }
        await fail(error);
        break;
      }
    }
  }

  async function fail(error: unknown): Promise<void> {
    const text =
      error instanceof ConflictError
        ? `${error.message}: the target holds another row with the same unique value; the migration stopped (nothing was deleted to make room)`
        : message(error);
    log.error({ err: error }, 'migration failed');
    running = false;
    try {
      await save({ phase: 'failed', error: text }, targetIsPrimary(record?.phase ?? 'idle') ? 'target' : 'source');
    } catch (saving) {
      log.error({ err: saving }, 'migration: the failure could not be recorded');
      if (record) record = { ...record, phase: 'failed', error: text };
    }
  }

  function startLoop(): void {
    if (running) return;
    running = true;
    loop = run();
  }
  async function stopLoop(): Promise<void> {
    running = false;
    await loop;
    loop = null;
  }

  /** Loads what the stores hold about the migration's tables and positions (start, resume). */
  async function load(to: Store): Promise<void> {
    const from = primary();
    tables = await migratedTables(from, to, deps.special);
    byName = new Map(tables.map((t) => [t.name, t]));
    position = (await readState<LogPosition>(to, 'applied')) ?? LOG_START;
    copied.clear();
    copiedTotal = 0;
    copyConflicts = 0;
    for (const t of tables) {
      const progress = await readState<Copied>(to, `copy:${t.name}`);
      if (progress) {
        copied.set(t.name, progress);
        copiedTotal += progress.copied;
      }
    }
  }

  // ---- bad input ----
  const invalid = (text: string) => new AppError('invalid_target', text);
  function notReady(text: string): AppError {
    return new AppError('not_ready', text);
  }
  function phase(): Phase {
    return record?.phase ?? 'idle';
  }
  function requireHere(): void {
    if (record && isRunning(record.phase) && !leaseHeld)
      throw notReady('the migration runs in another process (it holds the lease): send this command to that process');
  }

  /** Empty, or this same site's earlier (ended) migration target; anything else is refused. */
  async function checkTarget(to: Store, target: string): Promise<'empty' | 'ours'> {
    const theirs = await readRecord(to);
    if (theirs && theirs.role === 'target' && sameStore(theirs.source, deps.url) && !isRunning(theirs.phase))
      return 'ours';
    const ours = await migratedTables(to, to, []).catch(() => []);
    for (const t of ours) {
      const row = await to.q.get(`SELECT 1 AS x FROM ${t.name} LIMIT 1`);
      if (row)
        throw invalid(
          `the target ${redactUrl(target)} is not empty (${t.name} has rows) and holds no earlier migration of this site`,
        );
    }
    return 'empty';
  }

  async function clearTarget(to: Store): Promise<void> {
    const all = await migratedTables(to, to, []);
    await to.write(async (tx) => {
      for (const t of all) await tx.run(`DELETE FROM ${t.name}`);
      await tx.run(`DELETE FROM ${STATE_TABLE} WHERE name <> 'migration'`);
    });
  }

  /** The log's last position now (null when empty). */
  const head = (store: Store) =>
    store.q.get<LogPosition>(`SELECT txid, seq FROM ${CHANGE_LOG} ORDER BY txid DESC, seq DESC LIMIT 1`);
  const passed = (p: LogPosition, h: LogPosition) => p.txid > h.txid || (p.txid === h.txid && p.seq >= h.seq);

  /**
   * Rows a verify pass found different, checked again once the log has been
   * applied past the moment they were read (a busy site's rows change while
   * the pass reads them). A row that still differs and has not changed since
   * is a mismatch; one that changed again is checked again, up to five
   * times, and then counted as changing (the cutover compares it with writes
   * paused).
   */
  async function recheck(from: Store, to: Store, table: MigratedTable, keys: Key[]) {
    let pending = keys;
    const differ: Key[] = [];
    for (let round = 0; round < 5 && pending.length > 0; round++) {
      const mark = await head(from);
      const deadline = Date.now() + 30_000;
      while (mark && !passed(position, mark) && Date.now() < deadline && running) await sleep(20);
      const still = await differingKeys(from, to, table, pending);
      const changed = new Set(
        mark
          ? (
              await from.q.all<{ pk: string }>(
                `SELECT pk FROM ${CHANGE_LOG} WHERE table_name = ? AND (txid, seq) > (?, ?)`,
                [table.name, mark.txid, mark.seq],
              )
            ).map((r) => JSON.stringify(JSON.parse(r.pk)))
          : [],
      );
      pending = [];
      for (const key of still) (changed.has(JSON.stringify(key)) ? pending : differ).push(key);
    }
    return { differ, moving: pending.length };
  }

  const status = async (): Promise<MigrationStatus> => {
    const now = Date.now();
    while (rate.length > 0 && (rate[0] as { at: number }).at < now - 5000) rate.shift();
    const window = rate.length > 0 ? Math.max(1000, now - (rate[0] as { at: number }).at) : 1000;
    const rowsPerSecond = Math.round((rate.reduce((n, r) => n + r.rows, 0) * 1000) / window);
    const totalRows = (record?.tables ?? []).reduce((n, t) => n + t.rows, 0);
    const copying = record?.phase === 'copying';
    return {
      phase: phase(),
      source: record ? redactUrl(record.source) : null,
      target: record ? redactUrl(record.target) : null,
      startedAt: record?.startedAt ?? null,
      copiedRows: copiedTotal,
      totalRows,
      rowsPerSecond,
      etaSeconds: copying && rowsPerSecond > 0 ? Math.ceil(Math.max(0, totalRows - copiedTotal) / rowsPerSecond) : null,
      lag: isRunning(phase()) ? lag : { events: 0, ms: 0 },
      tables: (record?.tables ?? []).map((t) => ({
        name: t.name,
        rows: t.rows,
        copied: copied.get(t.name)?.copied ?? 0,
      })),
      verify: record?.verify ?? null,
      cutover: record?.cutover ?? null,
      error: record?.error ?? null,
      direction:
        record && isRunning(record.phase)
          ? targetIsPrimary(record.phase)
            ? 'target_to_source'
            : 'source_to_target'
          : null,
      chunkRows: chunk,
      runningHere: leaseHeld && running,
    };
  };

  /**
   * Drains the log into `to` with writes paused: everything the primary
   * holds is applied, then the rows changed in the last seconds are compared.
   * Throws not_ready (writes are resumed by the caller) if it takes too long.
   */
  async function drainAndCheck(to: Store, started: number): Promise<void> {
    const limit = deps.drainLimitMs ?? 5000;
    for (;;) {
      if ((await applyBatch(to)) > 0) continue;
      await measureLag();
      if (lag.events === 0) break;
      if (performance.now() - started > limit)
        throw notReady(
          `the change log did not drain within ${limit} ms (${lag.events} changes held back: on PostgreSQL a long transaction elsewhere on the server holds the snapshot horizon)`,
        );
      await sleep(2);
    }
    const byTable = new Map<string, Key[]>();
    for (const { table, key } of recent.values()) byTable.set(table, [...(byTable.get(table) ?? []), key]);
    for (const [name, keys] of byTable) {
      const differ = await differingKeys(primary(), to, byName.get(name) as MigratedTable, keys);
      if (differ.length > 0)
        throw notReady(`rows changed last differ after the drain: ${name} ${JSON.stringify(differ.slice(0, 5))}`);
    }
  }

  /**
   * The switch of primary, inside a write pause: new writes wait, running
   * ones finish, the log drains into `to`, the rows changed last are
   * compared, `commit` writes the record (naming `next` the primary), and the
   * handle swaps to `next` (opened beforehand, on the same side as `to`).
   * Before `commit` succeeds, a failure leaves the old primary serving.
   */
  async function switchPrimary(
    to: Store,
    next: Store,
    commit: (old: Store) => Promise<void>,
  ): Promise<{ pauseMs: number; old: Store }> {
    const started = performance.now();
    await handle.pauseWrites();
    try {
      await drainAndCheck(to, started);
      await commit(primary());
      const old = handle.swap(next);
      return { pauseMs: Math.round(performance.now() - started), old };
    } finally {
      handle.resumeWrites();
    }
  }

  /** Opens a store and checks it answers (closed again when it does not). */
  async function opened(url: string, foreignKeys: boolean): Promise<Store> {
    const store = deps.open(url, { foreignKeys });
    try {
      // Several at once: a PostgreSQL pool opens its connections now, not for the writes the pause released.
      await Promise.all(Array.from({ length: WARM_CONNECTIONS }, () => store.ping()));
      return store;
    } catch (error) {
      await store.close().catch(() => undefined);
      throw notReady(`cannot reach ${redactUrl(url)}: ${message(error)}`);
    }
  }

  return {
    status,

    start: (target) =>
      exclusive(async () => {
        if (record && isRunning(record.phase))
          throw new AppError(
            'migration_in_progress',
            `a migration to ${redactUrl(record.target)} is ${record.phase}: finish, roll back or abort it first`,
          );
        if (typeof target !== 'string' || !/^(postgres(ql)?:\/\/|sqlite:)/.test(target))
          throw invalid('the target must be a postgres:// URL or a sqlite: file');
        if (sameStore(target, deps.url)) throw invalid('the target is the store this site serves from');
        let to: Store;
        try {
          to = deps.open(target, { foreignKeys: false });
          await to.ping();
        } catch (error) {
          throw invalid(`cannot reach the target ${redactUrl(target)}: ${message(error)}`);
        }
        try {
          const kind = await checkTarget(to, target);
          await ensureState(to);
          await restoreIndexes(to); // an earlier attempt's, stopped before it built them
          await deps.prepare(to);
          if (kind === 'ours') await clearTarget(to);
          const found = await migratedTables(primary(), to, deps.special);
          await removeCapture(primary());
          await installCapture(primary());
          // Each table is copied up to its largest key now: rows made later are in the log from here on.
          // Counted off the event loop (a million-row count on SQLite held it for 160 ms).
          const rows = [];
          for (const t of found)
            rows.push({
              name: t.name,
              rows: (await primary().bulk.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.name}`))?.n ?? 0,
              until: await lastKey(primary(), t),
            });
          await to.write((tx) => tx.run(`DELETE FROM ${STATE_TABLE} WHERE name <> 'migration'`));
          await deferIndexes(
            to,
            found.map((t) => t.name),
          );
          const now = Date.now();
          record = {
            id: randomUUID(),
            role: 'source',
            phase: 'copying',
            source: deps.url,
            target,
            startedAt: now,
            copiedAt: null,
            tables: rows,
            verify: null,
            cutover: null,
            error: null,
            step: 0,
            updatedAt: now,
          };
          other = to;
          await save({}, 'source');
          await load(to);
          rate.length = 0;
          chunk = maxChunk;
          leaseHeld = await holdLease(primary());
          log.info(
            { target: redactUrl(target), rows: rows.reduce((n, t) => n + t.rows, 0) },
            'migration started: capturing changes, copying',
          );
          throttle.baseline();
          startLoop();
          return status();
        } catch (error) {
          if (other !== to) await to.close().catch(() => undefined);
          if (error instanceof AppError) throw error;
          if (error instanceof SchemaMismatch) throw invalid(`the target's schema differs: ${error.message}`);
          throw invalid(`the target ${redactUrl(target)} cannot be used: ${message(error)}`);
        }
      }),

    async verify() {
      const current = record;
      if (!current || !(current.phase === 'streaming' || current.phase === 'cut_over'))
        throw notReady(`verify compares a copied migration (phase streaming or cut_over); the phase is ${phase()}`);
      const to = other as Store;
      const from = primary();
      const reverse = targetIsPrimary(current.phase);
      const tablesNow: VerifyReport['tables'] = [];
      let mismatches = 0;
      let changing = 0;
      verifying++;
      try {
        for (const table of tables) {
          const verdict = await verifyTable(from, to, table);
          const { differ, moving } = await recheck(from, to, table, verdict.differing);
          const count = differ.length + (verdict.mismatches - verdict.differing.length);
          mismatches += count;
          changing += moving;
          tablesNow.push({
            name: table.name,
            sourceRows: reverse ? verdict.targetRows : verdict.sourceRows,
            targetRows: reverse ? verdict.sourceRows : verdict.targetRows,
            mismatches: count,
            keys: differ.slice(0, REPORTED_KEYS),
          });
        }
      } finally {
        verifying--;
      }
      if (record?.phase !== current.phase)
        throw notReady(`the phase changed to ${phase()} while verifying: verify again`);
      const report: VerifyReport = { at: Date.now(), mismatches, changing, tables: tablesNow };
      await exclusive(() => save({ verify: report }, reverse ? 'target' : 'source'));
      log.info({ mismatches }, 'migration verified');
      return report;
    },

    cutover: () =>
      exclusive(async () => {
        requireHere();
        const current = record;
        if (!current || current.phase !== 'streaming')
          throw notReady(
            current?.phase === 'copying'
              ? `still copying (${copiedTotal} of ${current.tables.reduce((n, t) => n + t.rows, 0)} rows)`
              : `cutover needs a migration that has copied everything (phase streaming); the phase is ${phase()}`,
          );
        await measureLag();
        if (lag.ms > deps.cutoverLagMs)
          throw notReady(`the lag is ${lag.ms} ms (${lag.events} changes), over the ${deps.cutoverLagMs} ms allowed`);
        if (current.verify && current.verify.mismatches > 0)
          throw notReady(
            `the last verify found ${current.verify.mismatches} mismatches: verify again once they are fixed`,
          );
        const to = other as Store;
        // Opened and made ready before the pause: the store to serve from, the source to write back into.
        const next = await opened(current.target, true);
        let back: Store | null = null;
        try {
          back = await opened(current.source, false);
          await installCapture(next);
        } catch (error) {
          await next.close().catch(() => undefined);
          await back?.close().catch(() => undefined);
          throw error;
        }
        const source = back;
        const at = Date.now();
        const written: MigrationRecord = {
          ...current,
          phase: 'cut_over',
          cutover: { at, pauseMs: 0 },
          verify: null,
          step: current.step + 1,
          updatedAt: at,
        };
        const switched = await switchPrimary(to, next, async () => {
          // The target's log held the forward applies (SQLite's triggers fire for them): from here it holds the site's writes.
          await next.write((tx) => tx.run(`DELETE FROM ${CHANGE_LOG}`));
          // (A second SQLite connection's writes wait for the site's writer, which is paused now: they are done here.)
          await source.write((tx) => tx.run(`DELETE FROM ${STATE_TABLE} WHERE name = 'applied'`));
          // The commit point: the target's record names it the primary. A crash from here resumes on the target.
          await writeRecord(next, written, 'target');
          record = written;
          other = source;
          await writeRecord(source, written, 'source').catch((error: unknown) =>
            log.warn({ err: error }, 'migration: the source could not be told of the cutover (the target was)'),
          );
        }).catch(async (error: unknown) => {
          if (record?.phase !== 'cut_over') {
            await next.close().catch(() => undefined);
            await source.close().catch(() => undefined);
          }
          throw error;
        });
        const { pauseMs, old } = switched;
        position = LOG_START;
        recent.clear();
        await removeCapture(old).catch((error: unknown) =>
          log.warn({ err: error }, 'migration: capture could not be removed from the source'),
        );
        await to.close().catch(() => undefined);
        setTimeout(() => void old.close().catch(() => undefined), 5000).unref();
        await save({ cutover: { at, pauseMs } }, 'target');
        deps.observe?.({ pauseMs });
        log.info({ pauseMs }, 'migration cut over: the target is the primary; changes flow back to the source');
        return { pauseMs };
      }),

    rollback: () =>
      exclusive(async () => {
        requireHere();
        const current = record;
        if (!current || current.phase !== 'cut_over')
          throw notReady(`rollback undoes a cutover (phase cut_over); the phase is ${phase()}`);
        const to = other as Store;
        const next = await opened(current.source, true);
        const written: MigrationRecord = {
          ...current,
          phase: 'rolled_back',
          step: current.step + 1,
          updatedAt: Date.now(),
        };
        const { pauseMs, old } = await switchPrimary(to, next, async (from) => {
          // The commit point: the source's record names it the primary again.
          await writeRecord(next, written, 'source');
          record = written;
          await writeRecord(from, written, 'target').catch((error: unknown) =>
            log.warn({ err: error }, 'migration: the target could not be told of the rollback (the source was)'),
          );
        }).catch(async (error: unknown) => {
          if (record?.phase !== 'rolled_back') await next.close().catch(() => undefined);
          throw error;
        });
        running = false;
        await removeCapture(old).catch((error: unknown) =>
          log.warn({ err: error }, 'migration: capture could not be removed from the target'),
        );
        await releaseLease(old);
        await to.close().catch(() => undefined);
        other = null;
        setTimeout(() => void old.close().catch(() => undefined), 5000).unref();
        deps.observe?.({ pauseMs });
        log.info({ pauseMs }, 'migration rolled back: the source is the primary again, holding every write');
        return { pauseMs };
      }),

    finish: () =>
      exclusive(async () => {
        requireHere();
        if (record?.phase !== 'cut_over')
          throw notReady(`finish follows a cutover (phase cut_over); the phase is ${phase()}`);
        running = false;
        await removeCapture(primary());
        await save({ phase: 'done' }, 'target');
        await releaseLease(primary());
        await other?.close().catch(() => undefined);
        other = null;
        log.info('migration finished: the source is retired');
      }),

    abort: () =>
      exclusive(async () => {
        const current = record;
        if (!current || !(current.phase === 'copying' || current.phase === 'streaming' || current.phase === 'failed'))
          throw notReady(
            current?.phase === 'cut_over'
              ? 'the target is already the primary: roll back or finish'
              : `no migration to abort (phase ${phase()})`,
          );
        if (targetIsPrimary(current.phase)) throw notReady('the target is already the primary: roll back or finish');
        running = false;
        await removeCapture(primary());
        // The target keeps Agora's whole schema: the indexes the copy deferred are built again.
        if (other)
          await restoreIndexes(other).catch((error: unknown) =>
            log.warn(
              { err: error },
              "migration: the target's deferred indexes could not be built; a new start builds them",
            ),
          );
        await save({ phase: 'aborted' }, 'source').catch(async (error: unknown) => {
          // The target may be what failed: the source's copy of the record is the one that counts.
          log.warn({ err: error }, 'migration: the target could not be told of the abort');
          record = { ...current, phase: 'aborted', step: current.step + 1, updatedAt: Date.now() };
          await writeRecord(primary(), record, 'source');
        });
        await releaseLease(primary());
        await other?.close().catch(() => undefined);
        other = null;
        log.info('migration aborted: capture removed from the source');
      }),

    async resume() {
      const mine = await readRecord(primary());
      if (!mine) return;
      // The later copy of the two stores is the truth (followPrimary made this store the primary).
      record = mine;
      if (!isRunning(mine.phase) || mine.phase === 'failed') return;
      const reverse = targetIsPrimary(mine.phase);
      try {
        const to = deps.open(reverse ? mine.source : mine.target, { foreignKeys: false });
        await to.ping();
        other = to;
        // Capture on the primary, and on the target while streaming (a crash in a cutover may leave it anywhere).
        await installCapture(primary());
        if (mine.phase === 'streaming') await installCapture(to);
        else await removeCapture(to);
        await load(to);
      } catch (error) {
        log.error({ err: error }, 'migration: cannot resume');
        if (record) record = { ...record, error: `cannot resume: ${message(error)}` };
        return;
      }
      log.info({ phase: mine.phase }, 'migration resumed');
      throttle.baseline();
      startLoop();
    },

    async caughtUp(limitMs = 30_000) {
      const deadline = Date.now() + limitMs;
      while (record?.phase === 'copying') {
        if (Date.now() > deadline) throw new Error(`the migration is still copying after ${limitMs} ms`);
        await sleep(20);
      }
      const mark = await head(primary());
      while (mark && !passed(position, mark)) {
        if (Date.now() > deadline)
          throw new Error(`the migration did not catch up in ${limitMs} ms: ${JSON.stringify(await status())}`);
        await sleep(20);
      }
    },

    async stop() {
      await stopLoop();
      if (leaseHeld) await releaseLease(primary());
      await other?.close().catch(() => undefined);
      other = null;
      throttle.close();
    },
  };
}

/** Whether a table has the copy's slice path (both halves of it). */
const sliced = (
  table: MigratedTable,
): table is MigratedTable & Required<Pick<MigratedTable, 'readSlice' | 'upsertSlice'>> =>
  table.readSlice !== undefined && table.upsertSlice !== undefined;

/** The throttle's window, and how many of them make the delay at rest (the last ten seconds before the copy). */
const WINDOW_MS = 500;
const REST_WINDOWS = 20;

/**
 * The copy's throttle, a measured rule: the 99th percentile of the event
 * loop's delay (what every request of this process waits for) over each
 * half second, against its value at rest — the median of the windows of the
 * ten seconds before the copy began, so neither a burst long before nor the
 * process's start counts. While a window is over twice that (and over 30 ms,
 * which noise does not reach), the chunk halves and the copy waits as long as
 * the chunk took; once it is back, the chunk grows a quarter at a time up to
 * the most.
 */
function createThrottle() {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const windows: number[] = [];
  let completed = 0;
  let decided = 0;
  let rest = 1;
  const timer = setInterval(() => {
    windows.push(loop.percentile(99) / 1e6);
    if (windows.length > REST_WINDOWS) windows.shift();
    loop.reset();
    completed++;
  }, WINDOW_MS);
  timer.unref();
  return {
    /** Takes the delay at rest from the windows so far (called as the copy begins). */
    baseline() {
      const sorted = [...windows].sort((a, b) => a - b);
      rest = Math.max(1, sorted[Math.floor(sorted.length / 2)] ?? 1);
      decided = completed;
    },
    /** After a step that took `tookMs`: the chunk for the next one (and a wait first, when over). */
    async after(tookMs: number, chunk: number, max: number): Promise<number> {
      if (completed === decided) return chunk; // no new window since the last decision
      decided = completed;
      if ((windows[windows.length - 1] ?? 0) > Math.max(2 * rest, 30)) {
        await sleep(tookMs);
        return Math.max(100, Math.floor(chunk / 2));
      }
      return Math.min(max, Math.ceil(chunk * 1.25));
    },
    close() {
      clearInterval(timer);
      loop.disable();
    },
  };
}
