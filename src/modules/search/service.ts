import type { Clock } from '../../platform/clock.js';
import type { Principal } from '../../platform/http/index.js';
import { decodeCursor, encodeCursor } from '../../platform/http/index.js';
import type { Store, Tx } from '../../platform/store/index.js';
import { SEARCH_QUERIES } from './queries.js';

export type SearchKind = 'posts' | 'communities' | 'comments';

/** Turns ids into the public items, dropping any that may not be shown (deleted, removed). */
export type Hydrator = (ids: string[], principal: Principal | null) => Promise<unknown[]>;

const MAX_TERMS = 8;
const MAX_OFFSET = 1000;

/** Search terms: runs of letters and digits, lower-cased; anything else in the query is just a separator. */
export function searchTerms(q: string): string[] {
  return [...new Set((q.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).map((t) => t.slice(0, 64)))].slice(0, MAX_TERMS);
}

export function createSearchService(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;
  const sql = SEARCH_QUERIES[store.dialect];
  const hydrators = new Map<SearchKind, Hydrator>();

  return {
    /** Adds or replaces a document, in the writer's transaction. */
    index(tx: Tx, kind: SearchKind, id: string, title: string, body: string): Promise<void> {
      return sql.upsert(tx, { kind, id, title, body, now: clock.now() });
    },
    /** Takes a document out of search, in the writer's transaction. */
    remove(tx: Tx, kind: SearchKind, id: string): Promise<void> {
      return sql.remove(tx, kind, id);
    },
    registerHydrator(kind: SearchKind, hydrate: Hydrator): void {
      hydrators.set(kind, hydrate);
    },
    async search(input: { q: string; type: SearchKind; limit: number; cursor?: string | undefined }, principal: Principal | null) {
      const terms = searchTerms(input.q);
      const offset = input.cursor ? Number(decodeCursor(input.cursor, ['number'])[0]) : 0;
      const hydrate = hydrators.get(input.type);
      if (terms.length === 0 || !hydrate || offset > MAX_OFFSET || offset < 0) return { items: [], nextCursor: null };
      const rows = await sql.find(store.q, input.type, terms, input.limit + 1, offset);
      const more = rows.length > input.limit;
      const items = await hydrate(rows.slice(0, input.limit).map((r) => r.id), principal);
      return { items, nextCursor: more && offset + input.limit <= MAX_OFFSET ? encodeCursor([offset + input.limit]) : null };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
