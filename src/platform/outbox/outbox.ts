import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { IdGenerator } from '../ids.js';
import { createWriteCombiner, type Param, type Store, type Tx } from '../store/index.js';
import * as sql from './sql.js';

/**
 * Every event's payload, by topic. The platform knows no module: each module
 * adds the topics it records, where it records them —
 * `declare module '…/platform/outbox/index.js' { interface OutboxTopics { 'post.created': PostCreated } }` —
 * so the compiler checks every producer's payload and hands each handler its type.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface OutboxTopics {}
export type Topic = keyof OutboxTopics & string;

export interface OutboxEvent<T extends Topic = Topic> {
  id: string;
  topic: T;
  payload: OutboxTopics[T];
  createdAt: number;
  /** 1 on the first delivery attempt. */
  attempt: number;
}

/** Must be idempotent: an event may be delivered more than once (keyed by event.id). */
export type OutboxHandler<T extends Topic = Topic> = (event: OutboxEvent<T>) => Promise<void>;

export interface OutboxOptions {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** How often to look for due events when nothing nudges the dispatcher. */
  pollMs: number;
  /** Backoff after the first failure; doubles each attempt up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Attempts before an event is set aside as failed. */
  maxAttempts: number;
  /** How long a claimed event stays reserved for one dispatcher. */
  leaseMs?: number;
  batchSize?: number;
  /** Delivered events older than this are deleted. */
  retentionMs?: number;
  onDelivered?: (topic: string) => void;
  onFailure?: (topic: string) => void;
}

export interface Outbox {
  /** Records an event in the caller's transaction; delivered after it commits. */
  record<T extends Topic>(tx: Tx, topic: T, payload: OutboxTopics[T]): Promise<string>;
  /** Records one event per payload in one statement; their ids, in order. */
  recordMany<T extends Topic>(tx: Tx, topic: T, payloads: OutboxTopics[T][]): Promise<string[]>;
  subscribe<T extends Topic>(topic: T, name: string, handler: OutboxHandler<T>): void;
  /** One pass: claims due events and delivers them. Returns how many were claimed. */
  dispatchOnce(): Promise<number>;
  start(): void;
  /**
   * Resolves once the dispatcher has nothing in hand: its pass is done (failures
   * written with their next attempt's time) and it waits for the next poll or
   * commit. A test moving a manual clock waits for it first.
   */
  idle(): Promise<void>;
  /** Stops the loop after the pass in progress. */
  stop(): Promise<void>;
  backlog(): Promise<{ pending: number; oldestAgeMs: number; failed: number }>;
}

/**
 * The transactional outbox and its dispatcher: events are rows written in
 * the same transaction as the change; after commit they are delivered at
 * least once to every subscribed handler, with exponential backoff on
 * failure. When some handlers of an event fail, those that succeeded are
 * recorded with the retry, so a retry only reruns the handlers that failed.
 * A failing handler never undoes the write.
 */
export function createOutbox(options: OutboxOptions): Outbox {
  const { store, clock, ids, log } = options;
  const leaseMs = options.leaseMs ?? 30_000;
  const batchSize = options.batchSize ?? 32;
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
  const handlers = new Map<string, { name: string; handler: OutboxHandler }[]>();
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let lastPrune = 0;
  let nudged = false;
  const idleWaiters: (() => void)[] = [];

  const nudge = () => {
    nudged = true;
    wake?.();
  };

  // Settlements of failures (retry, give up) finished together share one
  // transaction (on SQLite the store already commits them together). Events
  // delivered whole are marked together at the end of their pass.
  const settleWrite = createWriteCombiner(store);
  const settle = (statements: [string, Param[]][]) =>
    settleWrite('outbox', async (tx) => {
      for (const [statement, params] of statements) await tx.run(statement, params);
    });

  /** Runs the event's handlers; true when all succeeded (marked delivered by the pass), else settles the failure. */
  async function deliver(row: {
    id: string;
    topic: string;
    payload: string;
    created_at: number;
    attempts: number;
  }): Promise<boolean> {
    // The row was written by `record` with a topic and payload the compiler checked.
    const event: OutboxEvent = {
      id: row.id,
      topic: row.topic as Topic,
      payload: JSON.parse(row.payload) as OutboxTopics[Topic],
      createdAt: row.created_at,
      attempt: row.attempts,
    };
    const subscribed = handlers.get(row.topic) ?? [];
    // Handlers are marked done only when their event is not delivered as a whole, so a
    // first attempt has nothing to look up.
    const done =
      row.attempts > 1
        ? new Set((await store.q.all<{ handler: string }>(sql.HANDLED, [row.id])).map((r) => r.handler))
        : new Set<string>();
    const errors: string[] = [];
    const succeeded: string[] = [];
    for (const { name, handler } of subscribed) {
      if (done.has(name)) continue;
      try {
        await handler(event);
        succeeded.push(name);
      } catch (error) {
        errors.push(`${name}: ${(error as Error)?.message ?? String(error)}`);
        log.warn(
          { err: error, eventId: row.id, topic: row.topic, handler: name, attempt: row.attempts },
          'outbox handler failed',
        );
      }
    }
    if (errors.length === 0) return true;
    const now = clock.now();
    options.onFailure?.(row.topic);
    const marks = succeeded.map((name): [string, Param[]] => [sql.MARK_HANDLED, [row.id, name, now]]);
    const message = errors.join('; ').slice(0, 2000);
    if (row.attempts >= options.maxAttempts) {
      log.error({ eventId: row.id, topic: row.topic, attempts: row.attempts }, 'outbox event failed for good');
      await settle([...marks, [sql.GIVE_UP, [now, message, row.id]]]);
      return false;
    }
    const backoff = Math.min(options.baseBackoffMs * 2 ** (row.attempts - 1), options.maxBackoffMs);
    const jitter = Math.floor(Math.random() * backoff * 0.1);
    await settle([...marks, [sql.RETRY, [now + backoff + jitter, message, row.id]]]);
    return false;
  }

  async function dispatchOnce(): Promise<number> {
    const now = clock.now();
    const claimed = await store.write((tx) =>
      tx.all<{ id: string; topic: string; payload: string; created_at: number; attempts: number }>(
        sql.CLAIM[store.dialect],
        [now + leaseMs, now, now, batchSize],
      ),
    );
    const outcomes = await Promise.all(claimed.map(deliver));
    const delivered = claimed.filter((_, i) => outcomes[i]);
    if (delivered.length > 0) {
      // One statement for the pass (a claim is at most batchSize events), not one per event.
      await store.write((tx) =>
        tx.run(sql.DELIVERED(delivered.length), [clock.now(), ...delivered.map((row) => row.id)]),
      );
      for (const row of delivered) options.onDelivered?.(row.topic);
    }
    if (now - lastPrune > 3600_000) {
      lastPrune = now;
      await store.write(async (tx) => {
        await tx.run(sql.PRUNE_HANDLED, [now - retentionMs]);
        await tx.run(sql.PRUNE, [now - retentionMs]);
      });
    }
    return claimed.length;
  }

  async function run(): Promise<void> {
    while (running) {
      let claimed = 0;
      nudged = false;
      try {
        claimed = await dispatchOnce();
      } catch (error) {
        log.error({ err: error }, 'outbox dispatch failed');
      }
      if (claimed === 0 && running && !nudged) {
        // Until the next poll (the clock's beat: a test's manual clock moves it) or a commit's nudge.
        await new Promise<void>((resolve) => {
          const stop = clock.every(options.pollMs, () => wake?.());
          wake = () => {
            wake = null; // busy from here: idle() waits for the pass
            stop();
            resolve();
          };
          for (const waiter of idleWaiters.splice(0)) waiter();
        });
      }
    }
  }

  return {
    async record(tx, topic, payload) {
      return (await this.recordMany(tx, topic, [payload]))[0]!;
    },
    async recordMany(tx, topic, payloads) {
      const now = clock.now();
      const rows = payloads.map((payload) => [ids.next(), topic, JSON.stringify(payload), now, now]);
      await tx.run(sql.INSERT(rows.length), rows.flat());
      tx.afterCommit(nudge);
      return rows.map((row) => row[0] as string);
    },
    subscribe(topic, name, handler) {
      const list = handlers.get(topic) ?? [];
      if (list.some((h) => h.name === name)) throw new Error(`outbox handler ${name} already subscribed to ${topic}`);
      // Kept by topic: each is only ever handed events of its own topic.
      list.push({ name, handler: handler as OutboxHandler });
      handlers.set(topic, list);
    },
    dispatchOnce,
    idle() {
      if (!running || wake) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      nudge();
      await loop;
      loop = null;
      for (const waiter of idleWaiters.splice(0)) waiter();
    },
    async backlog() {
      const row = await store.q.get<{ n: number; oldest: number | null }>(sql.BACKLOG);
      const failed = await store.q.get<{ n: number }>(sql.FAILED);
      return {
        pending: row?.n ?? 0,
        oldestAgeMs: row?.oldest == null ? 0 : Math.max(0, clock.now() - row.oldest),
        failed: failed?.n ?? 0,
      };
    },
  };
}
