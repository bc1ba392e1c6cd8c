import type { Charge, MemoryBudget } from '../platform/memory.js';

/**
 * Signed-out readers' pages, kept as the bytes sent: one copy for every anonymous reader.
 * An entry hangs on the object the page was made from — a kept comment-tree answer, which
 * the comments module replaces when the thread changes, so the page goes with it — and is
 * checked against a key of everything else on the page (the post's fields, the address):
 * a page is never older than what it shows. Charged to the memory budget (owner `pages`).
 */
export function createPageCache(memory: MemoryBudget) {
  const kept = new WeakMap<object, { key: string; html: Buffer; charge: Charge }>();
  return {
    get(source: object, key: string): Buffer | undefined {
      const entry = kept.get(source);
      if (!entry || entry.key !== key) return undefined;
      entry.charge.touch();
      return entry.html;
    },
    set(source: object, key: string, html: Buffer): void {
      kept.get(source)?.charge.release();
      const entry = { key, html, charge: undefined as unknown as Charge };
      kept.set(source, entry);
      entry.charge = memory.charge('pages', html.length + 2 * key.length + 64, () => {
        if (kept.get(source) === entry) kept.delete(source);
      });
    },
  };
}

export type PageCache = ReturnType<typeof createPageCache>;
