import type { AccountsModule } from '../accounts/index.js';
import type { CommunitiesModule } from '../communities/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Principal } from '../../platform/principal.js';
import type { Cursors } from '../../platform/cursor.js';
import { Heap } from '../../platform/heap.js';
import { idLowerBound, idUpperBound } from '../../platform/ids.js';
import type { Param, Store } from '../../platform/store/index.js';
import type { PageCache } from './page-cache.js';
import type { Post, Presenter } from './presenter.js';
import * as q from './queries.js';
import { WINDOWS, type TimeWindow } from './ranks.js';

/** The page size the site's own links use (the routes' default `limit`): only such pages are kept in memory. */
export const PAGE_SIZE = 25;

export interface ListingPage {
  items: Post[];
  nextCursor: string | null;
}

export interface ListingInput {
  sort: q.Sort;
  t?: TimeWindow | undefined;
  limit: number;
  cursor?: string | undefined;
}

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
export function createListings(deps: {
  store: Store;
  clock: Clock;
  accounts: AccountsModule;
  communities: CommunitiesModule;
  present: Presenter;
  pages: PageCache;
  /**
   * Up to this many subscriptions, the feed merges per-community listing
   * pages (each kept in memory until its community changes); beyond, it
   * walks the global rank index with an IN filter.
   */
  feedMergeLimit: number;
  cursors: Cursors;
}) {
  const { store, clock, accounts, communities, present, pages, feedMergeLimit, cursors } = deps;

  interface Page {
    /** The list a cursor of this page is issued for: the sort and its time window, or the author's posts. */
    list: string;
    rank: q.Sort;
    after: (string | number)[] | null;
    bound: string;
    windowStart: number | null;
  }

  function page(input: ListingInput): Page {
    const windowed =
      (input.sort === 'top' || input.sort === 'controversial') && input.t !== undefined && input.t !== 'all';
    const list = input.sort === 'new' ? 'posts:new' : `posts:${input.sort}:${windowed ? input.t : 'all'}`;
    if (input.cursor) {
      if (input.sort === 'new')
        return {
          list,
          rank: 'new',
          after: [...cursors.decode(list, input.cursor, ['id'])],
          bound: '',
          windowStart: null,
        };
      const [rank, id, bound, windowStart] = cursors.decode(list, input.cursor, ['number', 'id', 'id', 'int']);
      return { list, rank: input.sort, after: [rank, id], bound, windowStart: windowed ? windowStart : null };
    }
    const now = clock.now();
    return {
      list,
      rank: input.sort,
      after: null,
      bound: idUpperBound(now),
      windowStart: windowed ? now - WINDOWS[input.t as keyof typeof WINDOWS] : null,
    };
  }

  function params(p: Page, communityIds: readonly string[], limit: number): Param[] {
    const out: Param[] = [...communityIds];
    if (p.windowStart !== null) out.push(idLowerBound(p.windowStart), p.windowStart);
    if (p.rank !== 'new') out.push(p.bound);
    if (p.after) out.push(...p.after);
    out.push(limit);
    return out;
  }

  function nextCursor(p: Page, rows: q.PostRow[], limit: number): string | null {
    const last = rows[limit - 1];
    if (rows.length <= limit || !last) return null;
    if (p.rank === 'new') return cursors.encode(p.list, [last.id]);
    return cursors.encode(p.list, [last[q.RANK[p.rank]], last.id, p.bound, p.windowStart ?? 0]);
  }

  async function query(
    p: Page,
    scope: 'one' | 'many' | 'all',
    communityIds: readonly string[],
    limit: number,
  ): Promise<q.PostRow[]> {
    let window: q.ListingShape['window'] = false;
    if (p.windowStart !== null) {
      const shape = { scope, n: communityIds.length };
      const size = await store.replica.get<{ n: number }>(q.windowSize(shape), [
        ...communityIds,
        idLowerBound(p.windowStart),
        p.bound,
      ]);
      window = Number(size?.n ?? 0) > q.WINDOW_SCAN_MAX ? 'wide' : 'narrow';
    }
    const sql = q.listing(store.dialect, {
      sort: p.rank,
      scope,
      n: communityIds.length,
      window,
      after: p.after !== null,
    });
    return store.replica.all<q.PostRow>(sql, params(p, communityIds, limit));
  }

  /**
   * One community's page (communityId) or every community's (null), from
   * the page cache when it is current. A first page of a time window is
   * always read: its window start moves with the clock. A first page of a
   * rank sort may be served after its snapshot bound moved on: no post of
   * that scope was created in between, or the page would have been dropped.
   */
  function run(p: Page, communityId: string | null, limit: number): q.PostRow[] | Promise<q.PostRow[]> {
    const load = () => (communityId === null ? query(p, 'all', [], limit) : query(p, 'one', [communityId], limit));
    if (!keepable(p, limit)) return pages.read(communityId === null ? null : [communityId], load);
    return pages.rows(`${communityId ?? '*'}|${pageKey(p, limit)}`, communityId, load);
  }

  /**
   * Pages of the size the site links to (PAGE_SIZE, whatever cursor: cursors are signed, so
   * only issued ones reach here) may be kept — any other size is read each time, so no
   * client can fill memory with variants — but the first page of a time window, whose
   * start moves with the clock.
   */
  function keepable(p: Page, rows: number): boolean {
    return rows === PAGE_SIZE + 1 && (p.windowStart === null || p.after !== null);
  }

  function pageKey(p: Page, limit: number): string {
    return `${p.rank}|${limit}|${p.after === null ? '' : `${p.bound}|${p.windowStart}|${p.after.join('|')}`}`;
  }

  /** Rank order of the listing: rank desc, then id desc. True when a comes first. */
  function before(sort: q.Sort): (a: q.PostRow, b: q.PostRow) => boolean {
    const byId = (a: q.PostRow, b: q.PostRow) => a.id > b.id;
    const col = q.RANK[sort];
    if (col === 'id') return byId;
    return (a, b) => (a[col] !== b[col] ? a[col] > b[col] : byId(a, b));
  }

  /**
   * An anonymous answer depends on nothing but the rows (authors' and
   * communities' names never change), so the answer to a kept page is made
   * once and handed out again as the same object — which lets the route send
   * the bytes it serialized the first time.
   */
  const anonymous = new WeakMap<q.PostRow[], Promise<ListingPage>>();

  function answer(p: Page, rows: q.PostRow[], limit: number, principal: Principal | null): Promise<ListingPage> {
    const make = async () => ({
      items: await present.many(rows.slice(0, limit), principal),
      nextCursor: nextCursor(p, rows, limit),
    });
    if (principal !== null) return make();
    let made = anonymous.get(rows);
    if (!made) {
      made = make();
      anonymous.set(rows, made);
      made.catch(() => anonymous.delete(rows));
    }
    return made;
  }

  return {
    async community(name: string, input: ListingInput, principal: Principal | null) {
      const c = await communities.ref(name);
      const p = page(input);
      return answer(p, await run(p, c.id, input.limit + 1), input.limit, principal);
    },

    /** Signed in: posts of subscribed communities; anonymous: all communities. */
    async feed(input: ListingInput, principal: Principal | null) {
      const p = page(input);
      const n = input.limit + 1;
      if (!principal) return answer(p, await run(p, null, n), input.limit, principal);
      const subscribed = await communities.subscribedIds(principal.accountId);
      if (subscribed.length === 0) return { items: [], nextCursor: null };
      if (subscribed.length > feedMergeLimit)
        return answer(p, await pages.read(subscribed, () => query(p, 'many', subscribed, n)), input.limit, principal);
      const merge = async () => {
        const found = subscribed.map((id) => run(p, id, n));
        const pagesOf = found.some((rows) => rows instanceof Promise)
          ? await Promise.all(found)
          : (found as q.PostRow[][]);
        return answer(p, mergeTop(pagesOf, n, before(p.rank)), input.limit, principal);
      };
      // The viewer's page (their votes included) is kept until one of their communities changes.
      if (!keepable(p, n)) return merge();
      return pages.composed(`${principal.accountId}|${pageKey(p, n)}`, subscribed, subscribed, merge);
    },

    /** A user's posts, newest first (deleted and removed ones left out): a read that may be a little behind (a replica). */
    async byAuthor(
      username: string,
      input: { limit: number; cursor?: string | undefined },
      principal: Principal | null,
    ) {
      const authorId = (await accounts.profile(username)).id;
      const after = input.cursor ? cursors.decode('posts:by-author', input.cursor, ['id'])[0] : null;
      const rows = after
        ? await store.replica.all<q.PostRow>(q.BY_AUTHOR_AFTER, [authorId, after, input.limit + 1])
        : await store.replica.all<q.PostRow>(q.BY_AUTHOR, [authorId, input.limit + 1]);
      return answer(
        { list: 'posts:by-author', rank: 'new', after: null, bound: '', windowStart: null },
        rows,
        input.limit,
        principal,
      );
    },
  };
}

/** The first n rows of several lists, each already in order: a k-way merge over a binary heap of list heads. */
export function mergeTop<T>(lists: readonly (readonly T[])[], n: number, before: (a: T, b: T) => boolean): T[] {
  const heads = new Heap<{ list: readonly T[]; at: number }>((a, b) => before(a.list[a.at] as T, b.list[b.at] as T));
  for (const list of lists) if (list.length > 0) heads.push({ list, at: 0 });
  const out: T[] = [];
  while (out.length < n && heads.size > 0) {
    const head = heads.pop() as { list: readonly T[]; at: number };
    out.push(head.list[head.at] as T);
    if (head.at + 1 < head.list.length) heads.push({ list: head.list, at: head.at + 1 });
  }
  return out;
}
