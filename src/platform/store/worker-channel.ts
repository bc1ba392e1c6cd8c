import { Worker } from 'node:worker_threads';
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
