import { sizeOf, type Charge, type MemoryBudget } from '../../platform/memory.js';
import {
  createFloors,
  heardItems,
  keptWhileHeard,
  readAtLeast,
  readerPosition,
  tellEachTurn,
  type Notices,
  type Tx,
} from '../../platform/store/index.js';
import type { PostRow } from './queries.js';

/**
 * Listing pages kept in memory: the rows a listing query returned, keyed by
 * the query (scope, sort, window, cursor, limit) and tagged with the change
 * count of what it read — one community, or every community for the
 * all-communities feed. Every committed change to a post (create, vote,
 * edit, delete, removal, lock) bumps its community's count and the global
 * one after commit, so a page is never served once a change could alter it.
 *
 * - `exact` (this process is the only writer: embedded SQLite): a kept page
 *   is served until a change; it is always what the store would answer.
 * - otherwise (PostgreSQL, where other processes write too): changes made by
 *   this process invalidate at once, and are told to the other processes
 *   (the store's notices, topic `posts.changed`: the communities changed in
 *   one event-loop turn, sent once their commits are done), which drop their
 *   pages when the notice arrives. While notices are heard a page is kept up
 *   to `heardMaxAgeMs` — the bound when a notice is lost (its sender stopped
 *   between commit and notice); otherwise, or when notices may have been
 *   missed (every page is dropped then), within `ttlMs` (0: nothing is kept).
 *
 * With read replicas pages are read from one (`store.replica`), at least at
 * the position of the last change to their communities that this process
 * made or heard of (the notice carries the writer's position), and at the
 * position notices are heard from — so a page kept after a change has it.
 * A page read for one reader is served to another only if it was read at
 * least at that reader's position (their own last write): one who just
 * wrote, through any process, reads a page of their own once.
 *
 * A page read while a change committed is returned but not kept (it is tagged
 * with the count from before the read, which no longer matches). Concurrent
 * misses of one key share one read, so an expired popular page costs one
 * query, not one per waiting request.
 */
export interface PageCache {
  /** The rows of a listing query, from memory when still current. `communityId` null: all communities. */
  rows(key: string, communityId: string | null, load: () => Promise<PostRow[]>): PostRow[] | Promise<PostRow[]>;
  /**
   * An answer composed from several communities' pages (a signed-in feed),
   * kept while none of them changed and `basis` (e.g. the subscription list
   * it was built for) is the same object.
   */
  composed<T>(key: string, communityIds: readonly string[], basis: object, make: () => Promise<T>): T | Promise<T>;
  /**
   * Runs a listing read (through `store.replica`) at least at the position of the last change
   * this process made or heard of to the communities (null: all of them).
   */
  read<T>(communityIds: readonly string[] | null, load: () => Promise<T>): Promise<T>;
  /** Called in a write that changes a post of the community: pages reading it are dropped after commit. */
  changed(tx: Tx, communityId: string): void;
  /** Drops every kept page and answer (the store was replaced). */
  clear(): void;
  readonly size: number;
}

const ALL = '';

const TOPIC = 'posts.changed';
/** Community ids per notice: a notice's payload is at most 8,000 bytes. */
const IDS_PER_NOTICE = 200;

export function createPageCache(options: {
  /** Asked at each use: the store underneath may be swapped. */
  exact: () => boolean;
  ttlMs: number;
  /** How long a page is kept while other processes' changes are heard (`notices`). */
  heardMaxAgeMs: number;
  notices: Notices;
  /** The primary's position after this process's latest commit (the store's `writePosition`). */
  position: () => bigint | null;
  maxEntries: number;
  now: () => number;
  memory: MemoryBudget;
}): PageCache {
  const enabled = () => options.exact() || options.ttlMs > 0;
  const versions = new Map<string, number>();
  // Moved by clear(): every scope's version changes at once, so nothing read before is kept or served.
  let epoch = 0;
  // `min`: the position the read was made at least at.
  const pages = new Map<
    string,
    { version: number; min: bigint; until: number; rows: PostRow[]; charge: Charge | null }
  >();
  const answers = new Map<
    string,
    { stamp: number; min: bigint; basis: object; until: number; value: unknown; charge: Charge | null }
  >();
  const reading = new Map<string, { version: number; min: bigint; promise: Promise<PostRow[]> }>();
  // Per community (and ALL): the position of the last change this process made or heard of.
  const floors = createFloors(options.notices);
  const version = (scope: string) => epoch + (versions.get(scope) ?? 0);
  const bump = (communityId: string, position: bigint) => {
    versions.set(communityId, (versions.get(communityId) ?? 0) + 1);
    versions.set(ALL, (versions.get(ALL) ?? 0) + 1);
    floors.raise(communityId, position);
    floors.raise(ALL, position);
  };
  const floorOf = (communityIds: readonly string[] | null): bigint => floors.of(communityIds ?? [ALL]);
  const read = <T>(communityIds: readonly string[] | null, load: () => Promise<T>): Promise<T> =>
    readAtLeast(floorOf(communityIds), load);
  /** The position a read for a reader at `reader` (their own last write) is made at least at. */
  const atLeast = (communityIds: readonly string[] | null, reader: bigint): bigint => {
    const floor = floorOf(communityIds);
    return reader > floor ? reader : floor;
  };
  /** How long a page loaded now may be kept. */
  const keepFor = keptWhileHeard(options.notices, options.ttlMs, options.heardMaxAgeMs);
  // This process's changes, told to the others once per turn.
  const tell = tellEachTurn(options.notices, TOPIC, IDS_PER_NOTICE, options.position);
  // Counts only grow, so their sum over a set of communities changes exactly when one of them does.
  const stampOf = (communityIds: readonly string[]) => {
    let sum = 0;
    for (const id of communityIds) sum += version(id);
    return sum;
  };
  // Each kept entry is charged to the memory budget: the rows (and, for pages, the
  // anonymous answer made from them once, about as large again).
  const keep = <V extends { charge: Charge | null }>(
    map: Map<string, V>,
    owner: string,
    key: string,
    value: V,
    bytes: number,
  ) => {
    map.get(key)?.charge?.release();
    map.delete(key);
    if (map.size >= options.maxEntries) {
      const oldest = map.keys().next();
      if (!oldest.done) {
        map.get(oldest.value)?.charge?.release();
        map.delete(oldest.value);
      }
    }
    map.set(key, value);
    value.charge = options.memory.charge(owner, bytes, () => {
      if (map.get(key) === value) map.delete(key);
    });
  };
  const hit = <V extends { charge: Charge | null }>(entry: V): V => {
    entry.charge?.touch();
    return entry;
  };

  // Other processes' changes (a gap: some may have been missed, so nothing kept is trusted).
  options.notices.subscribe(
    TOPIC,
    (message) => {
      for (const { item, position } of heardItems(message)) bump(item, position);
    },
    clear,
  );

  return {
    rows(key, communityId, load) {
      const ids = communityId === null ? null : [communityId];
      if (!enabled()) return read(ids, load);
      const scope = communityId ?? ALL;
      const reader = readerPosition();
      const page = pages.get(key);
      if (
        page &&
        page.version === version(scope) &&
        page.min >= reader &&
        (options.exact() || page.until > options.now())
      )
        return hit(page).rows;
      const seen = version(scope);
      const pending = reading.get(key);
      if (pending && pending.version === seen && pending.min >= reader) return pending.promise;
      const loadedAt = options.now();
      const min = atLeast(ids, reader);
      const promise = readAtLeast(min, load).then(
        (rows) => {
          if (reading.get(key)?.promise === promise) reading.delete(key);
          if (version(scope) === seen)
            keep(
              pages,
              'pages',
              key,
              { version: seen, min, until: loadedAt + keepFor(), rows, charge: null },
              2 * sizeOf(rows),
            );
          return rows;
        },
        (error: unknown) => {
          if (reading.get(key)?.promise === promise) reading.delete(key);
          throw error;
        },
      );
      reading.set(key, { version: seen, min, promise });
      return promise;
    },
    composed<T>(key: string, communityIds: readonly string[], basis: object, make: () => Promise<T>): T | Promise<T> {
      if (!enabled()) return make();
      const stamp = stampOf(communityIds);
      const reader = readerPosition();
      const answer = answers.get(key);
      if (
        answer &&
        answer.stamp === stamp &&
        answer.basis === basis &&
        answer.min >= reader &&
        (options.exact() || answer.until > options.now())
      )
        return hit(answer).value as T;
      const madeAt = options.now();
      const min = atLeast(communityIds, reader);
      return make().then((value) => {
        if (stampOf(communityIds) === stamp)
          keep(
            answers,
            'feeds',
            key,
            { stamp, min, basis, until: madeAt + keepFor(), value, charge: null },
            sizeOf(value),
          );
        return value;
      });
    },
    read,
    changed(tx, communityId) {
      tx.afterCommit(() => {
        bump(communityId, options.position() ?? 0n);
        if (!options.exact()) tell(communityId);
      });
    },
    clear,
    get size() {
      return pages.size;
    },
  };
  function clear() {
    epoch++;
    for (const entry of [...pages.values(), ...answers.values()]) entry.charge?.release();
    pages.clear();
    answers.clear();
    reading.clear();
    floors.clear(); // after a gap notices are heard from a later position; after a swap positions are another store's
  }
}
