import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Store, StoreStats, Tx } from '../types.js';
import { SQLITE_CAPABILITIES } from '../types.js';
import { commitThisTurn } from '../../turn.js';
import { singleProcessNotices } from '../notices.js';
import {
  BULK_NICE,
  bulkCall,
  bulkQueryable,
  bulkTransaction,
  workerChannel,
  type BulkCall,
} from '../worker-channel.js';
import type { BulkWorkerData } from './bulk-worker.js';
import { openConnection, type Connection } from './connection.js';
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
 * Bulk work (`bulk`, `bulkWrite`) runs in another worker thread
 * (bulk-worker.ts); a bulk transaction holds this writer back while it runs.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const writer = openConnection(options, false);
  const reader = openConnection(options, true);
  const checkpointer = options.path === ':memory:' ? null : startCheckpointer(options, writer);
  const bulk = options.path === ':memory:' ? null : createBulkWorker(options);
  const idleReaders: Connection[] = [];
  const maxBatch = options.maxBatch ?? 256;
  let queue: WriteJob[] = [];
  let draining = false;
  let inFlight = 0;
  let closed = false;
  let idle: (() => void) | null = null;
  /** A bulk transaction holds the writer: the worker's connection writes, this one waits. */
  let held = false;
  const waitingToHold: (() => void)[] = [];

  function schedule(): void {
    if (!draining && !held) {
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
    waitingToHold.shift()?.();
  }

  /**
   * A bulk transaction in the worker, with this writer held back meanwhile
   * (the writes queued then wait, as they wait for a batch; reads go on).
   * One at a time, between batches: the writes waiting when it ends go first.
   */
  async function bulkWrite<T>(call: BulkCall, fn: (tx: Tx) => Promise<T>): Promise<T> {
    while (draining || held) await new Promise<void>((resume) => waitingToHold.push(resume));
    if (closed) throw new Error('store is closed');
    held = true;
    inFlight++;
    try {
      return await bulkTransaction(call, fn);
    } finally {
      inFlight--;
      held = false;
      if (queue.length > 0) schedule();
      else waitingToHold.shift()?.();
    }
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
    replica: reader.queryable,
    writePosition: () => null,
    readRouting: () => null,
    bulk: bulk ? bulkQueryable(bulk.call) : reader.queryable,
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
    bulkWrite: (fn) => (bulk ? bulkWrite(bulk.call, fn) : write(fn)),
    async ping() {
      reader.db.prepare('SELECT 1').get();
    },
    stats(): StoreStats {
      return { writerQueueDepth: queue.length, writesInFlight: inFlight };
    },
    async close() {
      if (closed) return;
      closed = true;
      while (draining || held)
        await new Promise<void>((resolve) => {
          if (draining) idle = resolve;
          else waitingToHold.push(resolve);
        });
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

/** `Store.bulk` and `Store.bulkWrite`'s statements: run by a worker thread on connections of its own (bulk-worker.ts). */
function createBulkWorker(options: SqliteStoreOptions): { call: BulkCall; stop(): Promise<void> } {
  const channel = workerChannel({
    url: new URL('./bulk-worker.js', import.meta.url),
    workerData: {
      path: options.path,
      sync: options.sync,
      ...(options.foreignKeys === false ? { foreignKeys: false } : {}),
      nice: BULK_NICE,
    } satisfies BulkWorkerData,
    name: 'the SQLite bulk worker',
    translate: translateSqliteError,
  });
  return { call: bulkCall(channel), stop: () => channel.stop() };
}
