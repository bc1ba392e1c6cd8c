import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createNoticeBoard } from '../notices.js';
import { parsePosition } from '../read-context.js';
import type { Notices } from '../types.js';

const CHANNEL = 'agora_notices';

export interface PostgresNoticesOptions {
  url: string;
  /**
   * How often the listening connection proves it is alive; one that does
   * not answer within this time is dropped (a gap) and opened again.
   */
  heartbeatMs?: number;
  onError?: (error: Error) => void;
}

export interface PostgresNotices extends Notices {
  close(): Promise<void>;
}

/**
 * Notices over PostgreSQL's LISTEN/NOTIFY. `publish` adds `pg_notify` to the
 * transaction (PostgreSQL delivers it at the commit, to every listening
 * connection, in commit order) and hands the message to this process's
 * subscribers after the commit; the copy that comes back over the
 * listening connection is skipped by its origin tag.
 *
 * One connection of its own listens, opened by the first `subscribe`; once it
 * listens it reads the primary's position (`heardSince`). While
 * it is down — lost, or silent for a heartbeat — `hearing` is false and
 * every subscriber is told of the gap; it is opened again with a growing
 * delay (0.1 s up to 5 s).
 */
export function createPostgresNotices(options: PostgresNoticesOptions): PostgresNotices {
  const board = createNoticeBoard();
  const origin = randomBytes(6).toString('hex');
  const heartbeatMs = options.heartbeatMs ?? 1000;
  let client: pg.Client | null = null;
  let hearing = false;
  let since = 0n;
  let started = false;
  let closed = false;
  let beat: NodeJS.Timeout | null = null;
  let retry: NodeJS.Timeout | null = null;
  let delay = 100;

  /** Drops the connection `c` (if still the current one) and tells of the gap; resolves when it has ended. */
  const lost = (c: pg.Client, error?: Error): Promise<void> => {
    if (client !== c) return Promise.resolve();
    client = null;
    hearing = false;
    since = 0n;
    if (beat) clearInterval(beat);
    beat = null;
    const ended = c.end().catch(() => undefined);
    board.gap();
    if (!closed) {
      if (error) options.onError?.(error);
      retry = setTimeout(connect, delay);
      retry.unref();
      delay = Math.min(delay * 2, 5000);
    }
    return ended;
  };

  const heartbeat = (c: pg.Client) => {
    const timeout = setTimeout(
      () => void lost(c, new Error(`the notices connection did not answer within ${heartbeatMs} ms`)),
      heartbeatMs,
    );
    timeout.unref();
    c.query('SELECT 1').then(
      () => clearTimeout(timeout),
      (error: Error) => {
        clearTimeout(timeout);
        void lost(c, error);
      },
    );
  };

  async function connect(): Promise<void> {
    retry = null;
    if (closed) return;
    const c = new pg.Client({ connectionString: options.url, application_name: 'agora-notices', keepAlive: true });
    client = c;
    c.on('error', (error) => void lost(c, error));
    c.on('end', () => void lost(c));
    c.on('notification', (n) => {
      const payload = n.payload ?? '';
      // origin \t topic \t message
      const first = payload.indexOf('\t');
      const second = payload.indexOf('\t', first + 1);
      if (first < 0 || second < 0 || payload.slice(0, first) === origin) return;
      board.deliver(payload.slice(first + 1, second), payload.slice(second + 1));
    });
    let at: bigint;
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      // Every commit from here on is heard; one before may have been told while nobody listened.
      const row = await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      at = parsePosition(row.rows[0]?.lsn ?? '') ?? 0n;
    } catch (error) {
      void lost(c, error as Error);
      return;
    }
    if (client !== c) return;
    since = at;
    hearing = true;
    delay = 100;
    beat = setInterval(() => heartbeat(c), heartbeatMs);
    beat.unref();
  }

  return {
    async publish(tx, topic, message) {
      await tx.run('SELECT pg_notify(?, ?)', [CHANNEL, `${origin}\t${topic}\t${message}`]);
      board.afterCommit(tx, topic, message);
    },
    tell(topic, message) {
      // On the listening connection: while it is down the others may not hear either.
      if (hearing && client)
        client.query('SELECT pg_notify($1, $2)', [CHANNEL, `${origin}\t${topic}\t${message}`]).catch(() => undefined);
    },
    subscribe(topic, onMessage, onGap) {
      board.subscribe(topic, onMessage, onGap);
      if (!started && !closed) {
        started = true;
        void connect();
      }
    },
    get hearing() {
      return hearing;
    },
    heardSince: () => since,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (client) await lost(client);
    },
  };
}
