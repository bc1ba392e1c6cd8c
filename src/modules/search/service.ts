import { createReadCache, type ReadCache } from '../../platform/cache.js';
import type { MemoryBudget } from '../../platform/memory.js';
import type { Clock } from '../../platform/clock.js';
import type { Principal } from '../../platform/principal.js';
import type { Cursors } from '../../platform/cursor.js';
import {
  createFloors,
  heardItems,
  keptWhileHeard,
  readAtLeast,
  tellEachTurn,
  type Store,
  type Tx,
} from '../../platform/store/index.js';
import { SEARCH_QUERIES } from './queries.js';

export type SearchKind = 'posts' | 'communities' | 'comments';

/** Turns ids into the public items, dropping any that may not be shown (deleted, removed). */
export type Hydrator = (ids: string[], principal: Principal | null) => Promise<unknown[]>;

const MAX_TERMS = 8;
const MAX_OFFSET = 1000;

/** Search terms: runs of letters and digits, lower-cased; anything else in the query is just a separator. */
export function searchTerms(q: string): string[] {
  return [
    ...new Set(
      (
        q
          .normalize('NFKC')
          .toLowerCase()
          .match(/[\p{L}\p{N}]+/gu) ?? []
      ).map((t) => t.slice(0, 64)),
    ),
  ].slice(0, MAX_TERMS);
}

export interface SearchDeps {
  store: Store;
  clock: Clock;
  /** On a store shared by several processes: how stale a kept result list may be (0: none kept). */
  cacheTtlMs: number;
  cursors: Cursors;
  memory: MemoryBudget;
}

const KINDS: SearchKind[] = ['posts', 'comments', 'communities'];
const TOPIC = 'search.changed';

/** The page size of the site's own search links (the route's default `limit`). */
export const SEARCH_PAGE = 25;

export function createSearchService(deps: SearchDeps) {
  const { store, clock, cursors } = deps;
  const hydrators = new Map<SearchKind, Hydrator>();
  // Ranked id lists of recent queries, per kind. Every committed change to
  // a kind's documents drops that kind's lists, so on a single writer a kept
  // list is what the index would answer. On a shared store the change is told
  // to the other processes (topic `search.changed`), which drop theirs when
  // it arrives: while notices are heard a list is kept up to a minute
  // (`keptWhileHeard`: the bound when a notice is lost), otherwise cacheTtlMs. Items are
  // hydrated on every request, so nothing deleted or removed since is ever shown.
  const kept = () =>
    createReadCache<string, { id: string }[]>({
      exact: () => store.capabilities.exactCopies,
      ttlMs: keptWhileHeard(store.notices, deps.cacheTtlMs),
      maxEntries: 10_000,
      now: () => clock.now(),
      memory: { budget: deps.memory, owner: 'search' },
    });
  const results: Record<SearchKind, ReadCache<string, { id: string }[]>> = {
    posts: kept(),
    comments: kept(),
    communities: kept(),
  };
  // With read replicas the ranked lists are read from one (`store.replica`): never behind the
  // reader's own writes (the request's position) nor behind the last change to the kind that
  // this process made or heard of (`floors`, the writer's position), nor behind the position
  // notices are heard from (after a gap), so a list kept after a change has it.
  const floors = createFloors(store.notices);
  const drop = (kind: SearchKind, position: bigint) => {
    floors.raise(kind, position);
    results[kind].clear();
  };
  const dropAll = () => KINDS.forEach((kind) => results[kind].clear());
  // This process's changes, told to the others once per turn with the position after the turn's commits.
  const tell = tellEachTurn(store.notices, TOPIC, KINDS.length, () => store.writePosition());
  const changed = (tx: Tx, kind: SearchKind) =>
    tx.afterCommit(() => {
      drop(kind, store.writePosition() ?? 0n);
      tell(kind);
    });
  store.notices.subscribe(
    TOPIC,
    (message) => {
      for (const { item, position } of heardItems(message))
        if (KINDS.includes(item as SearchKind)) drop(item as SearchKind, position);
    },
    dropAll,
  );
  store.onReplaced(() => {
    floors.clear(); // a position of the store before is nothing to the one after
    dropAll();
  });

  return {
    /** Adds or replaces a document, in the writer's transaction. */
    index(tx: Tx, kind: SearchKind, id: string, title: string, body: string): Promise<void> {
      changed(tx, kind);
      return SEARCH_QUERIES[store.dialect].upsert(tx, { kind, id, title, body, now: clock.now() });
    },
    /** Takes a document out of search, in the writer's transaction. */
    remove(tx: Tx, kind: SearchKind, id: string): Promise<void> {
      changed(tx, kind);
      return SEARCH_QUERIES[store.dialect].remove(tx, kind, id);
    },
    registerHydrator(kind: SearchKind, hydrate: Hydrator): void {
      hydrators.set(kind, hydrate);
    },
    async search(
      input: { q: string; type: SearchKind; limit: number; cursor?: string | undefined },
      principal: Principal | null,
    ) {
      const terms = searchTerms(input.q);
      const offset = input.cursor ? cursors.decode(`search:${input.type}`, input.cursor, ['int'])[0] : 0;
      const hydrate = hydrators.get(input.type);
      if (terms.length === 0 || !hydrate || offset > MAX_OFFSET || offset < 0) return { items: [], nextCursor: null };
      const find = () =>
        readAtLeast(floors.of([input.type]), () =>
          SEARCH_QUERIES[store.dialect].find(store.replica, input.type, terms, input.limit + 1, offset),
        );
      // Only pages of the size the site links to are kept: other sizes are read each time.
      const rows =
        (await (input.limit === SEARCH_PAGE
          ? results[input.type].get(`${offset}|${terms.join(' ')}`, find)
          : find())) ?? [];
      const more = rows.length > input.limit;
      const items = await hydrate(
        rows.slice(0, input.limit).map((r) => r.id),
        principal,
      );
      return {
        items,
        nextCursor:
          more && offset + input.limit <= MAX_OFFSET
            ? cursors.encode(`search:${input.type}`, [offset + input.limit])
            : null,
      };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
