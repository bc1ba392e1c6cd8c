import { createBatcher } from '../batch.js';
import type { Store, Tx } from './types.js';
import { StoreError } from './types.js';

type Job = (tx: Tx) => Promise<unknown>;
type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export type CombinedWrite = <T>(key: string, fn: (tx: Tx) => Promise<T>) => Promise<T>;

/**
 * Write transactions of one key, combined. Every transaction that changes
 * a row holds its lock until it commits, so on PostgreSQL the writes of one
 * hot row commit one after another, and many small writes (outbox
 * settlements) each pay a commit; each
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
  async function runBatch(batch: Job[]): Promise<Settled[]> {
    const settled: Settled[] = [];
    let left = batch.map((_, i) => i);
    while (left.length > 0) {
      let failed: { at: number; error: unknown } | null = null;
      try {
        const values = await store.write(async (tx) => {
          failed = null;
          const done: { value: unknown; hooks: (() => void)[] }[] = [];
          for (const at of left) {
            const hooks: (() => void)[] = [];
            try {
              // A job ends its statements, not the batch's transaction: no early commit.
              const jobTx = {
                ...tx,
                afterCommit: (hook: () => void) => void hooks.push(hook),
                commitEarly: () => undefined,
              };
              done.push({ value: await batch[at]!(jobTx), hooks });
            } catch (error) {
              // A lost race (deadlock, serialization failure) is the store's to retry.
              if (!(error instanceof StoreError && error.kind === 'serialization')) failed = { at, error };
              throw error;
            }
          }
          for (const { hooks } of done) for (const hook of hooks) tx.afterCommit(hook);
          return done.map((d) => d.value);
        });
        values.forEach((value, i) => (settled[left[i]!] = { ok: true, value }));
        break;
      } catch (error) {
        const culprit = failed as { at: number; error: unknown } | null;
        if (!culprit) {
          for (const at of left) settled[at] = { ok: false, error };
          break;
        }
        settled[culprit.at] = { ok: false, error: culprit.error };
        left = left.filter((at) => at !== culprit.at);
      }
    }
    return settled;
  }

  const combined = createBatcher<Job, Settled>((_key, jobs) => runBatch(jobs), maxBatch);
  return async <T>(key: string, fn: (tx: Tx) => Promise<T>): Promise<T> => {
    if (store.capabilities.exactCopies) return store.write(fn);
    const result = await combined(key, fn);
    if (!result.ok) throw result.error;
    return result.value as T;
  };
}
