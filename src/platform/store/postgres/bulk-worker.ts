/**
 * Runs in a worker thread beside the PostgreSQL store: the store's bulk
 * statements (`Store.bulk`, `Store.bulkWrite`: a live migration's copy
 * slices, megabytes a chunk) on connections of its own, so that their bytes
 * are serialized, sent and garbage-collected here, not on the site's event
 * loop, at a lower CPU priority than the rest of the process.
 */
import { workerData } from 'node:worker_threads';
import pg from 'pg';
import type { BulkRequest } from '../worker-channel.js';
import { lowerThisThread, serve } from '../worker-serve.js';
import { copyIn } from './copy-in.js';
import { IN_FAILED_TRANSACTION, poolConfig, preparedStatements, type PostgresConnectionOptions } from './pool.js';

export interface BulkWorkerData extends PostgresConnectionOptions {
  /** Added to the thread's nice value (0: unchanged). */
  nice: number;
  /** Most connections the worker opens. */
  connections: number;
}

type Mode = 'all' | 'get' | 'run';

const data = workerData as BulkWorkerData;
lowerThisThread(data.nice);
const pool = new pg.Pool(poolConfig(data, data.connections));
// A failed idle connection is replaced by the pool; a statement on a server that is gone fails by itself.
pool.on('error', () => undefined);
const statement = preparedStatements();

interface Open {
  client: pg.PoolClient;
  /** The transaction's first failure: what a statement refused "in a failed transaction" and its COMMIT answer. */
  firstError: unknown;
}
const open = new Map<number, Open>();
let nextTx = 0;

async function query(runner: Pick<pg.Pool, 'query'>, mode: Mode, sql: string, params: unknown[]) {
  const s = statement(sql);
  const result = await runner.query({ name: s.name, text: s.text, values: params });
  return mode === 'all' ? result.rows : mode === 'get' ? result.rows[0] : (result.rowCount ?? 0);
}

function transaction(tx: number): Open {
  const t = open.get(tx);
  if (!t) throw new Error(`no open bulk transaction ${tx}`);
  return t;
}

async function inTransaction<T>(t: Open, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    t.firstError ??= error;
    throw (error as { code?: unknown }).code === IN_FAILED_TRANSACTION ? t.firstError : error;
  }
}

async function end(tx: number, commit: boolean): Promise<string> {
  const t = transaction(tx);
  open.delete(tx);
  let broken = false;
  try {
    if (!commit) {
      await t.client.query('ROLLBACK').catch(() => (broken = true));
      return 'ROLLBACK';
    }
    // COMMIT of a transaction a statement failed in answers ROLLBACK (not an error).
    const ended = await t.client.query('COMMIT');
    if (ended.command !== 'COMMIT') throw t.firstError ?? new Error(`the transaction ended with ${ended.command}`);
    return ended.command;
  } finally {
    t.client.release(broken);
  }
}

serve<BulkRequest>(
  async (r) => {
    switch (r.op) {
      case 'query':
        return query(pool, r.mode, r.sql, r.params);
      case 'begin': {
        const client = await pool.connect();
        const id = nextTx++;
        const t: Open = { client, firstError: null };
        open.set(id, t);
        // Goes out ahead of the first statement, without a round trip of its own.
        client.query('BEGIN').catch((error: unknown) => void (t.firstError ??= error));
        return id;
      }
      case 'tx': {
        const t = transaction(r.tx);
        return inTransaction(t, () => query(t.client, r.mode, r.sql, r.params));
      }
      case 'exec': {
        const t = transaction(r.tx);
        return inTransaction(t, async () => void (await t.client.query(r.sql)));
      }
      case 'copy': {
        const t = transaction(r.tx);
        await inTransaction(t, () => t.client.query('SAVEPOINT copy_in'));
        try {
          const copied = await copyIn(t.client, r.sql, r.data);
          await inTransaction(t, () => t.client.query('RELEASE SAVEPOINT copy_in'));
          return copied;
        } catch (error) {
          // Not the transaction's failure: it goes on from before the COPY.
          await inTransaction(t, () => t.client.query('ROLLBACK TO SAVEPOINT copy_in'));
          throw error;
        }
      }
      case 'end':
        return end(r.tx, r.commit);
    }
  },
  async () => {
    for (const t of open.values()) t.client.release(true);
    await pool.end();
  },
);
