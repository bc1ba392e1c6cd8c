import pg from 'pg';
import { StoreError, type Param, type Queryable, type Row } from '../types.js';
import { parsePosition, readContext } from '../read-context.js';
import { translatePgError } from './errors.js';
import { poolConfig, preparedStatements } from './pool.js';

export interface ReplicaState {
  /** The replica's URL without its password. */
  name: string;
  healthy: boolean;
  /** How far behind the primary it is, in seconds (how long ago the primary was where it is now). */
  lagSeconds: number;
  /** Reads it answered. */
  reads: number;
}

export interface ReplicaRouter {
  /** Reads that may be a little behind: a healthy replica that has replayed the reader's position, else the primary. */
  q: Queryable;
  /** Reads answered by the primary through `q`. */
  primaryReads(): number;
  replicas(): ReplicaState[];
  close(): Promise<void>;
}

export interface ReplicaRouterOptions {
  urls: string[];
  /** The primary's reads (its pool): where a read goes when no replica may answer it. */
  primary: Queryable;
  /** The primary's current WAL insert position. */
  primaryPosition: () => Promise<bigint>;
  poolSize: number;
  /** A replica further behind than this is out of rotation until it catches up. */
  maxLagMs: number;
  /** How often each replica's replayed position is read. */
  pollMs: number;
  redact: (url: string) => string;
  onError?: (error: Error) => void;
}

/**
 * Read replicas (hot standbys streaming from the primary). Each is polled
 * for the WAL position it has replayed; a read goes to one (in turn) only if
 * that position has passed the reader's (`readContext`), so a reader always
 * sees their own writes, and only while it is up and less than `maxLagMs`
 * behind. A read a replica fails is answered by the primary: reads never
 * fail because a replica did.
 */
export function createReplicaRouter(options: ReplicaRouterOptions): ReplicaRouter {
  const statement = preparedStatements();
  const replicas = options.urls.map((url) => {
    const pool = new pg.Pool(poolConfig({ url, statementTimeoutMs: 30_000 }, options.poolSize));
    pool.on('error', (error) => options.onError?.(error));
    return {
      name: options.redact(url),
      pool,
      healthy: false,
      replayed: null as bigint | null,
      lagSeconds: 0,
      reads: 0,
    };
  });
  let primaryReads = 0;
  let next = 0;
  // The primary's position over the last `maxLagMs`: when it passed each point.
  const history: { at: number; position: bigint }[] = [];

  async function poll(): Promise<void> {
    const now = Date.now();
    try {
      const position = await options.primaryPosition();
      if (history.length === 0 || history[history.length - 1]!.position !== position)
        history.push({ at: now, position });
    } catch {
      // The primary unreachable: the replicas keep their last standing.
    }
    while (history.length > 1 && history[1]!.at < now - options.maxLagMs) history.shift();
    await Promise.all(
      replicas.map(async (r) => {
        try {
          const row = await r.pool.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
          r.replayed = row.rows[0]?.lsn ? parsePosition(row.rows[0].lsn) : null;
          // Behind: since the primary first went past what the replica has replayed.
          const ahead = history.find((h) => r.replayed === null || h.position > r.replayed);
          r.lagSeconds = ahead && history.some((h) => h.position > (r.replayed ?? 0n)) ? (now - ahead.at) / 1000 : 0;
          r.healthy = r.replayed !== null && r.lagSeconds * 1000 <= options.maxLagMs;
        } catch {
          r.healthy = false;
        }
      }),
    );
  }
  let stopped = false;
  let polling: Promise<void> = poll();
  const timer = setInterval(() => {
    polling = polling.then(() => (stopped ? undefined : poll()));
  }, options.pollMs);
  timer.unref();

  /** A replica for a reader who must see `min`, in turn; null: the primary. */
  function choose(): (typeof replicas)[number] | null {
    const context = readContext.getStore();
    if (!context) return null;
    const min = context.min();
    for (let i = 0; i < replicas.length; i++) {
      const r = replicas[(next + i) % replicas.length]!;
      if (r.healthy && r.replayed !== null && r.replayed >= min) {
        next = (next + i + 1) % replicas.length;
        return r;
      }
    }
    return null;
  }

  async function query<T>(sql: string, params: readonly Param[]): Promise<T[]> {
    const replica = choose();
    if (replica) {
      try {
        const s = statement(sql);
        const result = await replica.pool.query({ name: s.name, text: s.text, values: params as unknown[] });
        replica.reads++;
        return result.rows as T[];
      } catch (error) {
        // Down, or a query cancelled by the replay: the primary answers, and the next poll decides.
        const translated = translatePgError(error);
        if (translated instanceof StoreError && translated.kind === 'unavailable') replica.healthy = false;
      }
    }
    primaryReads++;
    return options.primary.all<T>(sql, params);
  }

  return {
    q: {
      all: <T = Row>(sql: string, params: readonly Param[] = []) => query<T>(sql, params),
      get: async <T = Row>(sql: string, params: readonly Param[] = []) => (await query<T>(sql, params))[0],
      run: (sql: string, params?: readonly Param[]) => options.primary.run(sql, params),
    },
    primaryReads: () => primaryReads,
    replicas: () => replicas.map(({ name, healthy, lagSeconds, reads }) => ({ name, healthy, lagSeconds, reads })),
    async close() {
      stopped = true;
      clearInterval(timer);
      await polling.catch(() => undefined);
      await Promise.all(replicas.map((r) => r.pool.end()));
    },
  };
}
