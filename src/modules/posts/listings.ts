import type { AccountsModule } from '../accounts/index.js';
import type { CommunitiesModule } from '../communities/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Principal } from '../../platform/http/index.js';
import { decodeCursor, encodeCursor } from '../../platform/http/index.js';
import { idUpperBound } from '../../platform/ids.js';
import type { Param, Store } from '../../platform/store/index.js';
import type { Post, Presenter } from './presenter.js';
import * as q from './queries.js';
import { WINDOWS, type TimeWindow } from './ranks.js';

export interface ListingInput {
  sort: q.Sort;
  t?: TimeWindow | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Up to this many subscriptions, the feed merges per-community listings; beyond, it walks the global rank index. */
const MERGE_UP_TO = 20;

/**
 * Keyset paging over stored ranks.
 * - new: the cursor is the last id; posts that arrive later have greater ids
 *   and never shift later pages: each post at most once, none missed.
 * - hot/top/controversial: the cursor is (rank, id) plus the snapshot of the
 *   first page (the largest id then, and the window start): posts created
 *   after the first page never appear on later pages; a post whose rank did
 *   not change during the walk appears exactly once; one whose rank changed
 *   in between may be skipped or seen twice (its new rank decides).
 */
export function createListings(deps: { store: Store; clock: Clock; accounts: AccountsModule; communities: CommunitiesModule; present: Presenter }) {
  const { store, clock, accounts, communities, present } = deps;

  interface Page {
    rank: q.Sort;
    after: (string | number)[] | null;
    bound: string;
    windowStart: number | null;
  }

  function page(input: ListingInput): Page {
    const windowed = (input.sort === 'top' || input.sort === 'controversial') && input.t !== undefined && input.t !== 'all';
    if (input.cursor) {
      if (input.sort === 'new') return { rank: 'new', after: decodeCursor(input.cursor, ['string']), bound: '', windowStart: null };
      const [rank, id, bound, windowStart] = decodeCursor(input.cursor, ['number', 'string', 'string', 'number']);
      return { rank: input.sort, after: [rank!, rank!, id!], bound: String(bound), windowStart: windowed ? Number(windowStart) : null };
    }
    const now = clock.now();
    return { rank: input.sort, after: null, bound: idUpperBound(now), windowStart: windowed ? now - WINDOWS[input.t as keyof typeof WINDOWS] : null };
  }

  function params(p: Page, communityIds: readonly string[], limit: number): Param[] {
    const out: Param[] = [...communityIds];
    if (p.windowStart !== null) out.push(p.windowStart);
    if (p.rank !== 'new') out.push(p.bound);
    if (p.after) out.push(...p.after);
    out.push(limit);
    return out;
  }

  function nextCursor(p: Page, rows: q.PostRow[], limit: number): string | null {
    const last = rows[limit - 1];
    if (rows.length <= limit || !last) return null;
    if (p.rank === 'new') return encodeCursor([last.id]);
    return encodeCursor([last[q.RANK[p.rank] as 'hot' | 'score' | 'controversy'], last.id, p.bound, p.windowStart ?? 0]);
  }

  async function run(p: Page, scope: 'one' | 'many' | 'all', communityIds: readonly string[], limit: number): Promise<q.PostRow[]> {
    const sql = q.listing(store.dialect, { sort: p.rank, scope, n: communityIds.length, windowed: p.windowStart !== null, after: p.after !== null });
    return store.q.all<q.PostRow>(sql, params(p, communityIds, limit));
  }

  /** Rank order of the listing: rank desc, then id desc. */
  function compare(sort: q.Sort) {
    const col = q.RANK[sort];
    return (a: q.PostRow, b: q.PostRow) =>
      col !== 'id' && a[col] !== b[col] ? (b[col] as number) - (a[col] as number) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  }

  async function answer(p: Page, rows: q.PostRow[], limit: number, principal: Principal | null): Promise<{ items: Post[]; nextCursor: string | null }> {
    return { items: await present.many(rows.slice(0, limit), principal), nextCursor: nextCursor(p, rows, limit) };
  }

  return {
    async community(name: string, input: ListingInput, principal: Principal | null) {
      const c = await communities.ref(name);
      const p = page(input);
      return answer(p, await run(p, 'one', [c.id], input.limit + 1), input.limit, principal);
    },

    /** Signed in: posts of subscribed communities; anonymous: all communities. */
    async feed(input: ListingInput, principal: Principal | null) {
      const p = page(input);
      const n = input.limit + 1;
      if (!principal) return answer(p, await run(p, 'all', [], n), input.limit, principal);
      const subscribed = await communities.subscribedIds(principal.accountId);
      if (subscribed.length === 0) return { items: [], nextCursor: null };
      if (subscribed.length > MERGE_UP_TO) return answer(p, await run(p, 'many', subscribed, n), input.limit, principal);
      const perCommunity = await Promise.all(subscribed.map((id) => run(p, 'one', [id], n)));
      return answer(p, perCommunity.flat().sort(compare(p.rank)).slice(0, n), input.limit, principal);
    },

    /** A user's posts, newest first (deleted and removed ones left out). */
    async byAuthor(username: string, input: { limit: number; cursor?: string | undefined }, principal: Principal | null) {
      const authorId = (await accounts.profile(username)).id;
      const after = input.cursor ? String(decodeCursor(input.cursor, ['string'])[0]) : null;
      const rows = after
        ? await store.q.all<q.PostRow>(q.BY_AUTHOR_AFTER, [authorId, after, input.limit + 1])
        : await store.q.all<q.PostRow>(q.BY_AUTHOR, [authorId, input.limit + 1]);
      return answer({ rank: 'new', after: null, bound: '', windowStart: null }, rows, input.limit, principal);
    },
  };
}
