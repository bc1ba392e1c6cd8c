import type { Store, Tx } from './types.js';
import { StoreError } from './types.js';

interface Job {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export type CombinedWrite = <T>(key: string, fn: (tx: Tx) => Promise<T>) => Promise<T>;

/**
 * Write transactions on one hot row, combined. Every transaction that
 * changes a row holds its lock until it commits, so on PostgreSQL the
 * writes of one hot row (a drop's stock) commit one after another, each
 * paying its own lock wait, round trips and commit while the others hold
 * pool connections. Here the writes of one key that arrive while a batch of
 * that key is running wait for it and then run together in one transaction.
 * Each caller is answered after the commit that holds its write, and a
 * job's `afterCommit` hooks run only then.
 *
 * No savepoint per job (each would cost two more round trips): a job that
 * throws rolls the batch back, is answered with its error, and the others
 * run again without it — jobs must be safe to rerun, as every transaction
 * is (the store retries them after a lost race).
 *
 * On a single-writer store (SQLite) writes are already committed together
 * by the store: this passes them straight through.
 */
export function createWriteCombiner(store: Store, maxBatch = 64): CombinedWrite {
  const queues = new Map<string, Job[]>();

  async function runBatch(batch: Job[]): Promise<void> {
    let jobs = batch;
    while (jobs.length > 0) {
      let failed: { index: number; error: unknown } | null = null;
      try {
        const values = await store.write(async (tx) => {
          failed = null;
          const done: { value: unknown; hooks: (() => void)[] }[] = [];
          for (const [index, job] of jobs.entries()) {
            const hooks: (() => void)[] = [];
            try {
              done.push({ value: await job.fn({ ...tx, afterCommit: (hook) => void hooks.push(hook) }), hooks });
            } catch (error) {
              // A lost race (deadlock, serialization failure) is the store's to retry.
              if (!(error instanceof StoreError && error.kind === 'serialization')) failed = { index, error };
              throw error;
            }
          }
          for (const { hooks } of done) for (const hook of hooks) tx.afterCommit(hook);
          return done.map((d) => d.value);
        });
        values.forEach((value, i) => jobs[i]!.resolve(value));
        return;
      } catch (error) {
        const culprit = failed as { index: number; error: unknown } | null;
        if (!culprit) {
          for (const job of jobs) job.reject(error);
          return;
        }
        jobs[culprit.index]!.reject(culprit.error);
        jobs = jobs.filter((_, i) => i !== culprit.index);
      }
    }
  }

  async function drain(key: string, queue: Job[]): Promise<void> {
    while (queue.length > 0) await runBatch(queue.splice(0, maxBatch));
    queues.delete(key);
  }
  return <T>(key: string, fn: (tx: Tx) => Promise<T>): Promise<T> => {
    if (store.singleWriter) return store.write(fn);
    return new Promise<T>((resolve, reject) => {
      const job: Job = { fn, resolve: resolve as (value: unknown) => void, reject };
      const queue = queues.get(key);
      if (queue) {
        queue.push(job);
        return;
      }
      const fresh = [job];
      queues.set(key, fresh);
      void drain(key, fresh);
    });
  };
}
