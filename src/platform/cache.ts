import { sizeOf, type Charge, type MemoryBudget } from './memory.js';
import { keptWhileHeard, tellEachTurn } from './store/notices.js';
import { readAtLeast, readerPosition } from './store/read-context.js';
import type { Store } from './store/types.js';

/**
 * In-memory copies of stored rows for hot reads.
 *
 * - `exact` (this process is the store's single writer: embedded SQLite):
 *   every change passes through this process and invalidates the copy after
 *   commit, so a hit is always current. No time limit.
 * - `bounded` (PostgreSQL, where other processes may write): changes made by
 *   this process invalidate at once; changes made elsewhere are seen within
 *   `ttlMs`. A ttl of 0 turns the cache off (every read goes to the store).
 *   `ttlMs` may be a function, asked at each load: a copy whose changes
 *   reach it as notices may be kept longer while they are being heard.
 *
 * A load that raced an invalidation is not kept: each invalidation bumps an
 * epoch, and a value read before the bump is returned but not cached.
 */
export interface ReadCache<K, V> {
  /**
   * The cached value — synchronously on a hit, so hot paths take no promise
   * round-trip — or the loader's (cached when still current).
   */
  get(key: K, load: () => Promise<V | undefined>): V | Promise<V | undefined>;
  /** Call after the commit that changed the row (tx.afterCommit). */
  invalidate(key: K): void;
  /** Drops every entry. */
  clear(): void;
  /** Drops every entry the predicate matches. */
  invalidateWhere(predicate: (key: K, value: V) => boolean): void;
  readonly size: number;
}

export interface ReadCacheOptions {
  /** True when this process is the only writer: the copy is exact and never expires. Asked at each load. */
  exact: boolean | (() => boolean);
  /** Without `exact`: how long a copy may be served (0 = no cache), fixed or asked at each load. */
  ttlMs: number | (() => number);
  maxEntries: number;
  now: () => number;
  /** Charges each kept entry to the process's memory budget under this owner's name (evicted when over it). */
  memory?: { budget: MemoryBudget; owner: string };
}

export function createReadCache<K, V>(options: ReadCacheOptions): ReadCache<K, V> {
  const entries = new Map<K, { value: V; until: number; charge: Charge | null }>();
  const memory = options.memory;
  const remove = (key: K) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    entry.charge?.release();
  };
  const ttlOf = options.ttlMs;
  const exact = typeof options.exact === 'function' ? options.exact : () => options.exact as boolean;
  const ttlNow = () => (exact() ? Infinity : typeof ttlOf === 'number' ? ttlOf : ttlOf());
  let epoch = 0;
  return {
    get(key, load) {
      const hit = entries.get(key);
      if (hit !== undefined) {
        if (hit.until === Infinity || hit.until > options.now()) {
          hit.charge?.touch();
          return hit.value;
        }
        remove(key);
      }
      const ttl = ttlNow();
      if (ttl <= 0) return load();
      const seen = epoch;
      const loadedAt = options.now();
      return load().then((value) => {
        if (value !== undefined && seen === epoch) {
          remove(key);
          if (entries.size >= options.maxEntries) {
            const oldest = entries.keys().next();
            if (!oldest.done) remove(oldest.value);
          }
          const entry: { value: V; until: number; charge: Charge | null } = {
            value,
            until: loadedAt + ttl,
            charge: null,
          };
          entries.set(key, entry);
          if (memory) {
            entry.charge = memory.budget.charge(memory.owner, 64 + sizeOf(key) + sizeOf(value), () => {
              if (entries.get(key) === entry) entries.delete(key);
            });
          }
        }
        return value;
      });
    },
    invalidate(key) {
      epoch++;
      remove(key);
    },
    clear() {
      epoch++;
      for (const entry of entries.values()) entry.charge?.release();
      entries.clear();
    },
    invalidateWhere(predicate) {
      epoch++;
      for (const [key, entry] of entries) if (predicate(key, entry.value)) remove(key);
    },
    get size() {
      return entries.size;
    },
  };
}

/** Keys per notice of a shared cache: a notice's payload is at most 8,000 bytes. */
const KEYS_PER_NOTICE = 200;

/**
 * A read cache every process on `store` keeps in step: exact where the
 * process is the store's single writer; otherwise `invalidate` (called after
 * the commit) is also told to the other processes on `topic`
 * — the keys invalidated in one event-loop turn, once the turn's commits are
 * done — which invalidate the same keys when it arrives; when notices may
 * have been missed every entry is dropped. While notices are heard a copy is
 * kept up to `heardMaxAgeMs` (the bound when one is lost: its sender stopped
 * between commit and notice), otherwise `ttlMs`. Keys hold no comma.
 */
export function createSharedReadCache<V>(
  store: Pick<Store, 'capabilities' | 'notices'>,
  topic: string,
  options: Omit<ReadCacheOptions, 'ttlMs' | 'exact'> & { ttlMs: number; heardMaxAgeMs?: number },
): ReadCache<string, V> {
  const exact = () => store.capabilities.exactCopies;
  const cache = createReadCache<string, V>({
    ...options,
    exact,
    ttlMs: keptWhileHeard(store.notices, options.ttlMs, options.heardMaxAgeMs),
  });
  const tell = tellEachTurn(store.notices, topic, KEYS_PER_NOTICE);
  store.notices.subscribe(
    topic,
    (message) => {
      for (const key of message.split(',')) cache.invalidate(key);
    },
    () => cache.clear(),
  );
  return {
    ...cache,
    invalidate(key) {
      cache.invalidate(key);
      if (!exact()) tell(key);
    },
    get size() {
      return cache.size;
    },
  };
}

/**
 * Reads that must see every commit made before they were asked, shared.
 * A read asked while one of the same key is running does not join it (that
 * one may have started before a commit it must see): it waits, and every
 * read asked meanwhile shares the next load, which starts after all of them
 * were asked. So each answer is as fresh as a load of its own, and a hot key
 * costs at most one load in flight plus one waiting, however many ask.
 *
 * With read replicas a load's reads through `store.replica` see at least the
 * highest position among the reads it serves (`owed`: their own writes), not
 * only the position of the one that started it.
 */
export function createFreshReads<K, V>(load: (key: K) => Promise<V>): (key: K) => Promise<V> {
  interface Waiting {
    promise: Promise<V>;
    resolve: (value: V) => void;
    reject: (error: unknown) => void;
  }
  const running = new Map<K, { waiting: Waiting | null }>();
  const owed = new Map<K, bigint>();

  function start(key: K): Promise<V> {
    const position = owed.get(key) ?? 0n;
    owed.delete(key);
    const entry: { waiting: Waiting | null } = { waiting: null };
    running.set(key, entry);
    const done = () => {
      const waiting = entry.waiting;
      if (!waiting) {
        running.delete(key);
        return;
      }
      start(key).then(waiting.resolve, waiting.reject);
    };
    const loaded = readAtLeast(position, () => load(key));
    loaded.then(done, done);
    return loaded;
  }

  return (key) => {
    const position = readerPosition();
    if (position > (owed.get(key) ?? 0n)) owed.set(key, position);
    const entry = running.get(key);
    if (!entry) return start(key);
    if (!entry.waiting) {
      let resolve!: (value: V) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<V>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      entry.waiting = { promise, resolve, reject };
    }
    return entry.waiting.promise;
  };
}
