import pg from 'pg';
import type { Param, Queryable, Row, Store, StoreStats, Tx } from '../types.js';
import { POSTGRES_CAPABILITIES, StoreError } from '../types.js';
import { BULK_NICE, bulkCall, bulkQueryable, bulkTransaction, RETRIES, workerChannel } from '../worker-channel.js';
import type { BulkWorkerData } from './bulk-worker.js';
import { translatePgError } from './errors.js';
import { createPostgresNotices } from './notices.js';
import { createReplicaRouter } from './replicas.js';
import { parsePosition } from '../read-context.js';
import { IN_FAILED_TRANSACTION, poolConfig, preparedStatements, type PostgresConnectionOptions } from './pool.js';

export interface PostgresStoreOptions extends PostgresConnectionOptions {
  poolSize: number;
  /** Read replicas (`store.replica`); each write then learns the primary's WAL position after its commit. */
  replicas?: { urls: string[]; maxLagMs: number; pollMs?: number };
  /** Called when an idle pooled connection fails (the pool replaces it). */
  onIdleError?: (error: Error) => void;
}

/** PostgreSQL's answer to a statement sent after another one of its transaction failed. */
const inFailedTransaction = (error: unknown) =>
  (error as { cause?: { code?: unknown } })?.cause?.code === IN_FAILED_TRANSACTION;

/** Connections of the bulk worker: a migration's copy lanes, and one more. */
const BULK_CONNECTIONS = 3;

/**
 * PostgreSQL through a connection pool. Statements are prepared once per
 * connection (named by their text); bigint and numeric come back as numbers
 * so rows look the same as SQLite's. Connections pipeline: statements a
 * transaction issues together share one round trip. Transactions that fail
 * on a serialization failure or deadlock are retried whole. Bulk statements
 * (`bulk`, `bulkWrite`) are sent by a worker thread on connections of its own
 * (bulk-worker.ts).
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  // Statements issued together (Promise.all) go out without waiting for
  // each other's answers: one round trip instead of one each.
  const pool = new pg.Pool({ ...poolConfig(options, options.poolSize), pipeline: true });
  pool.on('error', (error) => options.onIdleError?.(error));
  const notices = createPostgresNotices({ url: options.url, onError: options.onIdleError });
  const statement = preparedStatements();
  let inFlight = 0;
  const tracking = (options.replicas?.urls.length ?? 0) > 0;
  let position = 0n;

  type Runner = Pick<pg.Pool, 'query'>;
  /** `failed`: told of each failed statement, in the order the server answered (a transaction keeps the first). */
  const queryable = (runner: Runner, failed?: (error: unknown) => void): Queryable => {
    const query = async (sql: string, params: readonly Param[]) => {
      try {
        const s = statement(sql);
        return await runner.query({ name: s.name, text: s.text, values: params as unknown[] });
      } catch (error) {
        const translated = translatePgError(error);
        failed?.(translated);
        throw translated;
      }
    };
    return {
      all: async <T = Row>(sql: string, params: readonly Param[] = []) => (await query(sql, params)).rows as T[],
      get: async <T = Row>(sql: string, params: readonly Param[] = []) =>
        (await query(sql, params)).rows[0] as T | undefined,
      run: async (sql: string, params: readonly Param[] = []) => (await query(sql, params)).rowCount ?? 0,
    };
  };

  async function transaction<T>(begin: string, fn: (tx: Tx) => Promise<T>, write = false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const hooks: (() => void)[] = [];
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translatePgError(error);
      }
      let broken = false;
      // Statements sent together (pipelined) after one that fails are refused as "in a
      // failed transaction"; the error that counts is the first one the server gave.
      let firstError: unknown = null;
      const failed = (error: unknown) => void (firstError ??= error);
      // BEGIN goes out with the transaction's first statements (pipelined),
      // not a round trip ahead of them; it is awaited before COMMIT.
      const send = sendTogether(client);
      const began = send.query(begin);
      began.catch(() => undefined);
      let committing: Promise<pg.QueryResult> | null = null;
      try {
        const tx: Tx = {
          ...queryable(send, failed),
          exec: async (script) => {
            try {
              await client.query(script);
            } catch (error) {
              throw translatePgError(error);
            }
          },
          afterCommit: (hook) => void hooks.push(hook),
          commitEarly: () => {
            committing ??= send.query('COMMIT');
            committing.catch(() => undefined);
          },
        };
        const value = await fn(tx);
        await began;
        const commit = committing ?? send.query('COMMIT');
        // With replicas, the WAL position behind the commit, asked in the same round trip.
        const at = tracking && write ? send.query('SELECT pg_current_wal_insert_lsn()::text AS lsn') : null;
        at?.catch(() => undefined);
        // COMMIT of a transaction a statement failed in answers ROLLBACK (not an error).
        const ended = await commit;
        if (ended.command !== 'COMMIT')
          throw firstError ?? new StoreError('other', `the transaction ended with ${ended.command}`);
        if (at) {
          const lsn = parsePosition(((await at).rows[0] as { lsn: string }).lsn) ?? 0n;
          if (lsn > position) position = lsn;
        }
        for (const hook of hooks) hook();
        return value;
      } catch (error) {
        // After an early COMMIT the transaction is over either way; a ROLLBACK would only warn.
        if (committing) await (committing as Promise<pg.QueryResult>).catch(() => (broken = true));
        else await client.query('ROLLBACK').catch(() => (broken = true));
        const translated = translatePgError(firstError && inFailedTransaction(error) ? firstError : error);
        if (translated instanceof StoreError && translated.kind === 'serialization' && attempt < RETRIES) continue;
        throw translated;
      } finally {
        client.release(broken);
      }
    }
  }

  const direct = queryable(pool);
  const router = tracking
    ? createReplicaRouter({
        urls: options.replicas!.urls,
        primary: direct,
        primaryPosition: async () =>
          parsePosition(
            ((await pool.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0] as { lsn: string }).lsn,
          ) ?? 0n,
        poolSize: Math.max(2, Math.ceil(options.poolSize / 2)),
        maxLagMs: options.replicas!.maxLagMs,
        pollMs: options.replicas!.pollMs ?? 100,
        redact,
        ...(options.onIdleError ? { onError: options.onIdleError } : {}),
      })
    : null;

  const worker = workerChannel({
    url: new URL('./bulk-worker.js', import.meta.url),
    workerData: {
      url: options.url,
      ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
      ...(options.foreignKeys === false ? { foreignKeys: false } : {}),
      nice: BULK_NICE,
      connections: BULK_CONNECTIONS,
    } satisfies BulkWorkerData,
    name: 'the PostgreSQL bulk worker',
    translate: translatePgError,
  });
  const call = bulkCall(worker);

  return {
    dialect: 'postgres',
    description: redact(options.url),
    capabilities: POSTGRES_CAPABILITIES,
    onReplaced() {},
    q: direct,
    replica: router?.q ?? direct,
    writePosition: () => (router ? position : null),
    readRouting: () => (router ? { primaryReads: router.primaryReads(), replicas: router.replicas() } : null),
    bulk: bulkQueryable(call),
    notices,
    read: (fn) => transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn),
    async write(fn) {
      inFlight++;
      try {
        return await transaction('BEGIN', fn, true);
      } finally {
        inFlight--;
      }
    },
    async bulkWrite(fn) {
      inFlight++;
      try {
        return await bulkTransaction(call, fn, true);
      } finally {
        inFlight--;
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1');
      } catch (error) {
        throw translatePgError(error);
      }
    },
    stats(): StoreStats {
      return { writerQueueDepth: pool.waitingCount, writesInFlight: inFlight };
    },
    async close() {
      await worker.stop();
      await router?.close();
      await notices.close();
      await pool.end();
    },
  };
}

/**
 * A transaction's connection whose statements issued in one go of the event
 * loop leave in one write. pg writes each statement with a system call of
 * its own, and on loopback the sender also pays for the receiver's wake-up:
 * eight for a comment's create (BEGIN, six statements, COMMIT). The socket is corked at the first
 * statement and uncorked by `process.nextTick`, which runs once the callback
 * and the promise jobs running now are done. Measured: the PostgreSQL
 * comment-vote benchmark from 700–820 to 800–900 req/s.
 */
function sendTogether(client: pg.PoolClient): Pick<pg.PoolClient, 'query'> {
  // pg's socket: not in its typings, there since its first versions.
  const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } })
    .connection?.stream;
  if (!stream?.cork || !stream.uncork) return client;
  const socket = stream as { cork(): void; uncork(): void };
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const query = (...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return (client.query as (...a: unknown[]) => unknown)(...args);
  };
  return { query: query as pg.PoolClient['query'] };
}

/** The URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
