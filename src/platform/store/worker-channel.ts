import { Worker } from 'node:worker_threads';
import type { Param, Queryable, Row, Tx } from './types.js';
import { StoreError } from './types.js';

/** Nice value a store's bulk thread adds: below the site's requests, above nothing else. */
export const BULK_NICE = 10;

/** What a store's worker thread answers to one request (worker-serve.ts). */
export type WorkerAnswer =
  | { id: number; value: unknown }
  | { id: number; error: { message: string; code?: string; detail?: string; constraint?: string } };

/**
 * The site's side of a store's worker thread (a SQLite store's bulk reader,
 * a PostgreSQL store's bulk connections): requests by id, each answered once.
 * Started at the first request; while none is waiting the worker does not
 * keep the process alive; if it dies, the requests it held fail as
 * `unavailable` and the next request starts another.
 */
export function workerChannel(options: {
  /** The worker's module. */
  url: URL;
  workerData: unknown;
  /** Names the worker in errors. */
  name: string;
  /** A driver error as the worker answered it (message, code, …) into the store's error. */
  translate: (error: Error) => unknown;
}): {
  /** Sends a request; `transfer`: buffers moved to the worker instead of copied. */
  call(request: object, transfer?: ArrayBuffer[]): Promise<unknown>;
  stop(): Promise<void>;
} {
  let worker: Worker | null = null;
  let next = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(new StoreError('unavailable', error.message, { cause: error }));
    pending.clear();
  };
  function start(): Worker {
    const w = new Worker(options.url, { workerData: options.workerData });
    w.unref();
    w.on('message', (answer: WorkerAnswer) => {
      const p = pending.get(answer.id);
      if (!p) return;
      pending.delete(answer.id);
      if (pending.size === 0) w.unref();
      if ('error' in answer) p.reject(options.translate(Object.assign(new Error(answer.error.message), answer.error)));
      else p.resolve(answer.value);
    });
    w.on('error', (error) => failAll(error));
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      failAll(new Error(`${options.name} exited (${code})`));
    });
    return w;
  }
  return {
    call: (request, transfer = []) =>
      new Promise<unknown>((resolve, reject) => {
        worker ??= start();
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ ...request, id }, transfer);
      }),
    async stop() {
      const w = worker;
      worker = null;
      if (!w) return;
      await new Promise<void>((resolve) => {
        w.ref();
        w.once('exit', () => resolve());
        w.postMessage('stop');
      });
    },
  };
}

/**
 * The buffers among `values` (and the values of the objects among them) that
 * own their whole memory: moved to the other thread instead of copied (a
 * copy slice of megabytes never becomes a string on the site's heap). Small
 * pooled ones share their memory with others and are copied.
 */
export function ownBuffers(values: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const take = (v: unknown) => {
    if (
      v instanceof Uint8Array &&
      v.byteOffset === 0 &&
      v.byteLength === v.buffer.byteLength &&
      v.buffer instanceof ArrayBuffer &&
      !out.includes(v.buffer)
    )
      out.push(v.buffer);
  };
  for (const item of Array.isArray(values) ? values : [values]) {
    take(item);
    if (item && typeof item === 'object' && !(item instanceof Uint8Array)) for (const v of Object.values(item)) take(v);
  }
  return out;
}

type Mode = 'all' | 'get' | 'run';
/**
 * What a store's bulk worker is asked: a statement outside a transaction;
 * a transaction's begin (answered with its number), statements, script and
 * end (answered with how it ended).
 */
export type BulkRequest = { id: number } & (
  | { op: 'query'; mode: Mode; sql: string; params: unknown[] }
  | { op: 'begin' }
  | { op: 'tx'; tx: number; mode: Mode; sql: string; params: unknown[] }
  | { op: 'exec'; tx: number; sql: string }
  | { op: 'copy'; tx: number; sql: string; data: Uint8Array }
  | { op: 'end'; tx: number; commit: boolean }
);
type Unsent<R> = R extends unknown ? Omit<R, 'id'> : never;
/** Sends a bulk request; the buffers among `params` are moved to the worker. */
export type BulkCall = (request: Unsent<BulkRequest>, params?: readonly Param[]) => Promise<unknown>;

/** A channel's calls as a `BulkCall`. */
export const bulkCall =
  (channel: { call(request: object, transfer?: ArrayBuffer[]): Promise<unknown> }): BulkCall =>
  (request, params = []) =>
    channel.call(request, ownBuffers(params));

/** Statements answered by the bulk worker: outside a transaction, or in transaction `tx`. */
export function bulkQueryable(call: BulkCall, tx?: number): Queryable {
  const send = (mode: Mode, sql: string, params: readonly Param[] = []) =>
    call(
      tx === undefined
        ? { op: 'query', mode, sql, params: params as unknown[] }
        : { op: 'tx', tx, mode, sql, params: params as unknown[] },
      params,
    );
  return {
    all: async <T = Row>(sql: string, params?: readonly Param[]) => (await send('all', sql, params)) as T[],
    get: async <T = Row>(sql: string, params?: readonly Param[]) => (await send('get', sql, params)) as T | undefined,
    run: async (sql: string, params?: readonly Param[]) => (await send('run', sql, params)) as number,
  };
}

/** How many times a transaction is run whole on a serialization failure or deadlock (here, and PostgreSQL's writes). */
export const RETRIES = 3;

/**
 * `Store.bulkWrite` over a bulk worker: `fn` runs here, its statements run
 * in the worker's transaction; commits when `fn` resolves (then its
 * `afterCommit` hooks run), rolls back when it throws. `copies`: the worker
 * answers `copy` (its store has `Tx.copyIn`).
 */
export async function bulkTransaction<T>(call: BulkCall, fn: (tx: Tx) => Promise<T>, copies = false): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const tx = (await call({ op: 'begin' })) as number;
    const hooks: (() => void)[] = [];
    try {
      const value = await fn({
        ...bulkQueryable(call, tx),
        exec: async (script) => void (await call({ op: 'exec', tx, sql: script })),
        ...(copies
          ? {
              copyIn: async (sql: string, data: Uint8Array) =>
                (await call({ op: 'copy', tx, sql, data }, [data])) as number,
            }
          : {}),
        afterCommit: (hook) => void hooks.push(hook),
        commitEarly: () => undefined,
      });
      await call({ op: 'end', tx, commit: true });
      for (const hook of hooks) hook();
      return value;
    } catch (error) {
      // Already over when its COMMIT failed: then there is nothing to roll back.
      await call({ op: 'end', tx, commit: false }).catch(() => undefined);
      if (error instanceof StoreError && error.kind === 'serialization' && attempt < RETRIES) continue;
      throw error;
    }
  }
}
