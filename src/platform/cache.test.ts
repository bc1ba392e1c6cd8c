import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFreshReads, createReadCache, createSharedReadCache } from './cache.js';
import { heardItems } from './store/notices.js';
import type { Notices, StoreCapabilities } from './store/types.js';

const opts = (over: Partial<Parameters<typeof createReadCache>[0]> = {}) => ({
  exact: true,
  ttlMs: 0,
  maxEntries: 10,
  now: () => 0,
  ...over,
});

test('a cache that is neither exact nor given a ttl always asks the loader', async () => {
  const cache = createReadCache<string, number>(opts({ exact: false, ttlMs: 0 }));
  let loads = 0;
  for (let i = 0; i < 3; i++) assert.equal(await cache.get('k', async () => ++loads), i + 1);
});

test('an exact cache keeps values until invalidated, and answers hits synchronously', async () => {
  const cache = createReadCache<string, number>(opts());
  let loads = 0;
  assert.equal(await cache.get('k', async () => ++loads), 1);
  assert.equal(
    cache.get('k', async () => ++loads),
    1,
    'a hit is a plain value, not a promise',
  );
  cache.invalidate('k');
  assert.equal(await cache.get('k', async () => ++loads), 2);
  cache.invalidateWhere((_k, v) => v === 2);
  assert.equal(await cache.get('k', async () => ++loads), 3);
});

test('a bounded cache serves a copy for at most ttlMs', async () => {
  let now = 1000;
  const cache = createReadCache<string, number>(opts({ exact: false, ttlMs: 500, now: () => now }));
  let loads = 0;
  assert.equal(await cache.get('k', async () => ++loads), 1);
  now += 499;
  assert.equal(await cache.get('k', async () => ++loads), 1);
  now += 1;
  assert.equal(await cache.get('k', async () => ++loads), 2);
});

test('a load that raced an invalidation is returned but not kept', async () => {
  const cache = createReadCache<string, string>(opts());
  const first = cache.get('k', async () => {
    cache.invalidate('k'); // the row changed while it was being read
    return 'old';
  });
  assert.equal(await first, 'old');
  assert.equal(await cache.get('k', async () => 'new'), 'new');
});

test('missing rows are not cached, and the size is bounded', async () => {
  const cache = createReadCache<number, number>(opts({ maxEntries: 3 }));
  assert.equal(await cache.get(0, async () => undefined), undefined);
  assert.equal(cache.size, 0);
  for (let i = 0; i < 10; i++) await cache.get(i, async () => i);
  assert.equal(cache.size, 3);
});

test('fresh reads: a read asked during a load shares the next load, never the running one', async () => {
  const loads: { key: string; resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const read = createFreshReads(
    (key: string) => new Promise<string>((resolve, reject) => loads.push({ key, resolve, reject })),
  );
  const first = read('d');
  const second = read('d');
  const third = read('d');
  const other = read('e');
  assert.deepEqual(
    loads.map((l) => l.key),
    ['d', 'e'],
    'one load per key in flight',
  );
  loads[0]!.resolve('v1');
  assert.equal(await first, 'v1');
  await Promise.resolve();
  assert.equal(loads.length, 3, 'the waiting reads start their own load once the running one is done');
  const fourth = read('d');
  loads[2]!.resolve('v2');
  assert.deepEqual(await Promise.all([second, third]), ['v2', 'v2']);
  await Promise.resolve();
  loads[3]!.reject(new Error('store down'));
  await assert.rejects(fourth, /store down/);
  loads[1]!.resolve('e1');
  assert.equal(await other, 'e1');
  const again = read('d');
  assert.equal(loads.length, 5, 'after everything settled, a read starts a load at once');
  loads[4]!.resolve('v3');
  assert.equal(await again, 'v3');
});

test('a ttl given as a function is asked at each load: a copy made while it was long stays, later ones get the new one', async () => {
  let now = 0;
  let ttl = 10_000;
  let loads = 0;
  const cache = createReadCache<string, number>(opts({ exact: false, ttlMs: () => ttl, now: () => now }));
  const load = async () => ++loads;
  assert.equal(await cache.get('a', load), 1);
  ttl = 100;
  assert.equal(await cache.get('b', load), 2);
  now = 500;
  assert.equal(cache.get('a', load), 1, 'a was loaded under the long ttl');
  assert.equal(await cache.get('b', load), 3, 'b expired after the short one');
  ttl = 0;
  now = 20_000;
  assert.equal(await cache.get('a', load), 4);
  assert.equal(await cache.get('a', load), 5, 'a ttl of 0 keeps nothing');
});

test('a shared cache tells its invalidations to the other processes, and drops what they tell', async () => {
  const heard: { onMessage: (m: string) => void; onGap: () => void }[] = [];
  const told: string[] = [];
  let hearing = true;
  const notices: Notices = {
    publish: async () => undefined,
    subscribe: (topic, onMessage, onGap) => void (topic === 'rows.changed' && heard.push({ onMessage, onGap })),
    tell: (topic, message) => void told.push(`${topic} ${message}`),
    get hearing() {
      return hearing;
    },
    heardSince: () => 0n,
  };
  let now = 0;
  const store = { capabilities: { exactCopies: false } as StoreCapabilities, notices };
  const cache = createSharedReadCache<number>(store, 'rows.changed', {
    ttlMs: 1000,
    heardMaxAgeMs: 60_000,
    maxEntries: 10,
    now: () => now,
  });
  let loads = 0;
  const get = (key: string) => cache.get(key, async () => ++loads);
  assert.equal(await get('a'), 1);
  assert.equal(await get('b'), 2);
  now = 30_000;
  assert.equal(get('a'), 1, 'kept past ttlMs while notices are heard');
  cache.invalidate('a');
  cache.invalidate('b');
  assert.equal(await get('a'), 3, 'dropped here at once');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(told, ['rows.changed a,b'], "the turn's keys, told once");
  heard[0]!.onMessage('a');
  assert.equal(await get('a'), 4, 'dropped when another process tells it');
  assert.equal(await get('b'), 5);
  heard[0]!.onGap();
  hearing = false;
  assert.equal(await get('b'), 6, 'a gap drops everything');
  now += 1001;
  assert.equal(await get('b'), 7, 'while nothing is heard, kept for ttlMs only');
});

test("a notice's items carry the position at its head; older processes' notices read the same", () => {
  assert.deepEqual(heardItems('@42,c1,c2'), [
    { item: 'c1', position: 42n },
    { item: 'c2', position: 42n },
  ]);
  assert.deepEqual(heardItems('c1,c2'), [
    { item: 'c1', position: 0n },
    { item: 'c2', position: 0n },
  ]);
  assert.deepEqual(heardItems('posts@7,comments@9'), [
    { item: 'posts', position: 7n },
    { item: 'comments', position: 9n },
  ]);
  assert.deepEqual(heardItems('@x,c1'), [{ item: 'c1', position: 0n }], 'a position that is not one is none');
});
