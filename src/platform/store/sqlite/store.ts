import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Param, Queryable, Row, Store, StoreStats, Tx } from '../types.js';
import { SQLITE_CAPABILITIES } from '../types.js';
import { commitThisTurn } from '../../turn.js';
import { singleProcessNotices } from '../notices.js';
import { BULK_NICE, workerChannel } from '../worker-channel.js';
import type { BulkQuery, BulkReaderData } from './bulk-reader.js';
import { translateSqliteError } from './errors.js';

export type SqliteSync = 'normal' | 'full';

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created if missing. */
  path: string;
  /** `normal`: survives a killed process. `full`: also survives power loss (fsync per commit). */
  sync: SqliteSync;
  /** Most write transactions committed together (group commit). */
  maxBatch?: number;
  /** How often a worker thread checkpoints the WAL (default 200 ms). */
  checkpointMs?: number;
  /** Told when the checkpoint worker fails (the writer then checkpoints by itself). */
  onCheckpointError?: (error: Error) => void;
  /**
   * Foreign keys checked (default). Off only for a live migration's applier,
   * which writes rows in key order, not parent-first, into a store that
   * matches its consistent source once the log is applied.
   */
  foreignKeys?: boolean;
}

interface WriteJob {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Embedded SQLite. One writer connection owned by this process serializes
 * every write; reads use separate connections and, in WAL mode, never wait
 * for the writer. Writes queued in the same event-loop turn are committed
 * together (one BEGIN IMMEDIATE .. COMMIT, a savepoint each), so that an
 * fsync per commit stays affordable; each caller is answered only after the
 * commit that holds its write. The commit runs first in the turn's check
 * phase, before the reads waiting for it (turn.ts). The WAL is copied back into the database by
 * a worker thread (checkpointer.ts), so commits never wait for a checkpoint.
 * Long reads (`bulk`) run in another worker thread (bulk-reader.ts).
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const writer = openConnection(options, false);
  const reader = openConnection(options, true);
  const checkpointer = options.path === ':memory:' ? null : startCheckpointer(options, writer);
  const bulk = options.path === ':memory:' ? null : createBulkReader(options.path);
  const idleReaders: Connection[] = [];
  const maxBatch = options.maxBatch ?? 256;
  let queue: WriteJob[] = [];
  let draining = false;
  let inFlight = 0;
  let closed = false;
  let idle: (() => void) | null = null;

  function schedule(): void {
    if (!draining) {
      draining = true;
      commitThisTurn(drain);
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      inFlight = batch.length;
      await runBatch(batch);
      inFlight = 0;
    }
    draining = false;
    idle?.();
  }

  async function runBatch(batch: WriteJob[]): Promise<void> {
    const done: { job: WriteJob; value: unknown; hooks: (() => void)[] }[] = [];
    const failed: { job: WriteJob; error: unknown }[] = [];
    const single = batch.length === 1;
    try {
      writer.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const job of batch) job.reject(translateSqliteError(error));
      return;
    }
    for (const job of batch) {
      const hooks: (() => void)[] = [];
      if (!single) writer.exec('SAVEPOINT job');
      try {
        const value = await job.fn(writer.tx(hooks));
        if (!single) writer.exec('RELEASE job');
        done.push({ job, value, hooks });
      } catch (error) {
        if (!single) {
          writer.exec('ROLLBACK TO job');
          writer.exec('RELEASE job');
        }
        failed.push({ job, error });
      }
    }
    try {
      writer.exec(done.length > 0 ? 'COMMIT' : 'ROLLBACK');
    } catch (error) {
      if (writer.db.inTransaction) writer.exec('ROLLBACK');
      const translated = translateSqliteError(error);
      for (const { job } of done) job.reject(translated);
      for (const { job, error: e } of failed) job.reject(e);
      return;
    }
    for (const { job, value, hooks } of done) {
      job.resolve(value);
      for (const hook of hooks) hook();
    }
    for (const { job, error } of failed) job.reject(error);
  }

  function write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      schedule();
    });
  }

  return {
    dialect: 'sqlite',
    description: `sqlite:${options.path}`,
    capabilities: SQLITE_CAPABILITIES,
    onReplaced() {},
    q: reader.queryable,
    bulk: bulk?.queryable ?? reader.queryable,
    notices: singleProcessNotices(),
    async read(fn) {
      const conn = idleReaders.pop() ?? openConnection(options, true);
      conn.exec('BEGIN');
      try {
        return await fn(conn.queryable);
      } finally {
        conn.exec('COMMIT');
        idleReaders.push(conn);
      }
    },
    write,
    bulkWrite: write,
    async ping() {
      reader.db.prepare('SELECT 1').get();
    },
    stats(): StoreStats {
      return { writerQueueDepth: queue.length, writesInFlight: inFlight };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (draining) await new Promise<void>((resolve) => (idle = resolve));
      await checkpointer?.stop();
      await bulk?.stop();
      writer.db.pragma('optimize');
      for (const conn of [writer, reader, ...idleReaders]) conn.db.close();
    },
  };
}

/**
 * Turns the writer's automatic checkpoint off and starts the checkpoint
 * worker; if the worker fails, the writer checkpoints by itself again.
 */
function startCheckpointer(options: SqliteStoreOptions, writer: Connection): { stop(): Promise<void> } {
  const fallBack = (error: Error) => {
    writer.db.pragma('wal_autocheckpoint = 1000');
    options.onCheckpointError?.(error);
  };
  writer.db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./checkpointer.js', import.meta.url), {
    workerData: { path: options.path, intervalMs: options.checkpointMs ?? 200 },
  });
  worker.unref();
  let stopped = false;
  let exited = false;
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onCheckpointError?.(new Error(`WAL checkpoint failed: ${message.error}`));
  });
  worker.on('error', (error) => fallBack(error));
  worker.on('exit', (code) => {
    exited = true;
    if (!stopped) fallBack(new Error(`the WAL checkpoint worker exited (${code})`));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        stopped = true;
        if (exited) return resolve();
        worker.ref(); // keep the process up until the worker has closed its connection
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}

/**
 * `Store.bulk`: statements run by a worker thread on its own read-only
 * connection (bulk-reader.ts), started at the first one.
 */
function createBulkReader(path: string): { queryable: Queryable; stop(): Promise<void> } {
  const channel = workerChannel({
    url: new URL('./bulk-reader.js', import.meta.url),
    workerData: { path, nice: BULK_NICE } satisfies BulkReaderData,
    name: 'the SQLite bulk reader',
    translate: translateSqliteError,
  });
  const query = (mode: BulkQuery['mode'], sql: string, params: readonly Param[] = []) =>
    channel.call({ sql, params: params as unknown[], mode } satisfies Omit<BulkQuery, 'id'>);
  return {
    queryable: {
      all: async <T = Row>(sql: string, params?: readonly Param[]) => (await query('all', sql, params)) as T[],
      get: async <T = Row>(sql: string, params?: readonly Param[]) =>
        (await query('get', sql, params)) as T | undefined,
      run: async (sql: string, params?: readonly Param[]) => (await query('run', sql, params)) as number,
    },
    stop: () => channel.stop(),
  };
}

interface Connection {
  db: Database.Database;
  /** Runs a statement without parameters, prepared once (transaction control). */
  exec(sql: string): void;
  queryable: Queryable;
  tx(hooks: (() => void)[]): Tx;
}

function openConnection(options: SqliteStoreOptions, readOnly: boolean): Connection {
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`foreign_keys = ${options.foreignKeys === false ? 'OFF' : 'ON'}`);
  db.pragma('busy_timeout = 5000');
  if (!readOnly) {
    // The writer keeps a larger page cache (64 MiB): votes touch several index pages each.
    db.pragma('cache_size = -65536');
    // The WAL file is never cut back: it is reused from its start after each
    // checkpoint and keeps the size of the largest burst of writes. Cutting
    // it back happens inside the next commit (an ftruncate of the excess):
    // measured here at 300–400 ms with the event loop blocked, after a burst
    // of 10,000 comments (bench/comments.mjs, write p99).
    db.pragma('journal_size_limit = -1');
  }
  if (readOnly) db.pragma('query_only = ON');
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      try {
        stmt = db.prepare(sql);
      } catch (error) {
        throw translateSqliteError(error);
      }
      statements.set(sql, stmt);
    }
    return stmt;
  };
  const guard = <T>(f: () => T): Promise<T> => {
    try {
      return Promise.resolve(f());
    } catch (error) {
      return Promise.reject(translateSqliteError(error));
    }
  };
  const queryable: Queryable = {
    all: <T = Row>(sql: string, params: readonly Param[] = []) => guard(() => prepare(sql).all(...params) as T[]),
    get: <T = Row>(sql: string, params: readonly Param[] = []) =>
      guard(() => prepare(sql).get(...params) as T | undefined),
    run: (sql: string, params: readonly Param[] = []) => guard(() => prepare(sql).run(...params).changes),
  };
  return {
    db,
    exec(sql) {
      try {
        prepare(sql).run();
      } catch (error) {
        throw translateSqliteError(error);
      }
    },
    queryable,
    tx(hooks) {
      return {
        ...queryable,
        exec: (script: string) => guard(() => void db.exec(script)),
        afterCommit: (fn: () => void) => void hooks.push(fn),
        commitEarly: () => undefined,
      };
    },
  };
}
