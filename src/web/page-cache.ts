import type { Charge, MemoryBudget } from '../platform/memory.js';

/**
 * What pages make once and share: signed-out readers' pages, kept as the bytes sent (one
 * copy for every anonymous reader), and the comment-tree templates of signed-in readers'
 * post pages. An entry hangs on the object the page was made from — a kept comment-tree answer, which
 * the comments module replaces when the thread changes, so the page goes with it — and is
 * checked against a key of everything else on the page (the post's fields, the address):
 * a page is never older than what it shows. One entry per object (a new key replaces it).
Charged to the memory budget (owner `pages`).
 */
export function createPageCache<T = Buffer>(
  memory: MemoryBudget,
  bytes: (value: T) => number = (value) => (value as Buffer).length,
) {
  const kept = new WeakMap<object, { key: string; value: T; charge: Charge }>();
  return {
    get(source: object, key: string): T | undefined {
      const entry = kept.get(source);
      if (!entry || entry.key !== key) return undefined;
      entry.charge.touch();
      return entry.value;
    },
    set(source: object, key: string, value: T): T {
      kept.get(source)?.charge.release();
      const entry = { key, value, charge: undefined as unknown as Charge };
      kept.set(source, entry);
      entry.charge = memory.charge('pages', bytes(value) + 2 * key.length + 64, () => {
        if (kept.get(source) === entry) kept.delete(source);
      });
      return value;
    },
  };
}

export type PageCache<T = Buffer> = ReturnType<typeof createPageCache<T>>;
