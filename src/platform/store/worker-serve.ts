/**
 * The worker's side of a store's worker thread (worker-channel.ts): its CPU
 * priority and the loop that answers requests.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { ownBuffers, type WorkerAnswer } from './worker-channel.js';

/**
 * Adds `nice` to this thread's nice value (Linux: a thread's nice value is
 * its own), so that on a busy machine the site's requests go first and the
 * worker takes what is left.
 */
export function lowerThisThread(nice: number): void {
  if (nice <= 0) return;
  try {
    // /proc/thread-self is "<pid>/task/<tid>"; setpriority on a thread id changes that thread alone.
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
  } catch {
    // Not Linux, or not allowed: the thread runs at the process's priority.
  }
}

/**
 * Answers each request with what `handle` returns (its own buffers moved,
 * not copied) or the error it throws; `stop` runs at the site's 'stop', and
 * the thread ends after it.
 */
export function serve<R extends { id: number }>(
  handle: (request: R) => unknown,
  stop: () => void | Promise<void>,
): void {
  const port = parentPort;
  if (!port) throw new Error('not a worker thread');
  port.on('message', (message: R | 'stop') => {
    if (message === 'stop') {
      void Promise.resolve(stop()).finally(() => port.close());
      return;
    }
    const { id } = message;
    const answer = (value: unknown) => port.postMessage({ id, value } satisfies WorkerAnswer, ownBuffers(value));
    const fail = (error: unknown) => {
      // A driver error, or one the worker's own store code translated (its cause then carries the code).
      type Driver = { message?: string; code?: unknown; detail?: unknown; constraint?: unknown; cause?: Driver };
      const e = error as Driver | undefined;
      const text = (key: 'code' | 'detail' | 'constraint') => {
        const v = e?.[key] ?? e?.cause?.[key];
        return typeof v === 'string' ? v : undefined;
      };
      port.postMessage({
        id,
        error: {
          message: e?.message ?? String(error),
          code: text('code'),
          detail: text('detail'),
          constraint: text('constraint'),
        },
      } satisfies WorkerAnswer);
    };
    try {
      const value = handle(message);
      if (value instanceof Promise) value.then(answer, fail);
      else answer(value);
    } catch (error) {
      fail(error);
    }
  });
}
