import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBudget } from '../../platform/memory.js';
import { readContext, readerPosition, type Notices } from '../../platform/store/index.js';
import { createPageCache } from './page-cache.js';
import type { PostRow } from './queries.js';

/**
 * The page cache as on a store shared by several processes (not exact, kept
 * while notices are heard), with the notices other processes would send
 * delivered by hand.
 */
function setup() {
  const heard: ((message: string) => void)[] = [];
  let since = 0n;
  const told: string[] = [];
  const notices: Notices = {
    publish: async () => undefined,
    subscribe: (topic, onMessage) => void (topic === 'posts.changed' && heard.push(onMessage)),
    tell: (topic, message) => void told.push(`${topic} ${message}`),
    hearing: true,
    heardSince: () => since,
  };
  let written = 0n;
  const pages = createPageCache({
    exact: () => false,
    ttlMs: 1000,
    heardMaxAgeMs: 60_000,
    notices,
    position: () => written,
    maxEntries: 100,
    now: () => 0,
    memory: createMemoryBudget(1 << 20),
  });
  // Each load answers rows naming the position it was asked to read at least at.
  const at: bigint[] = [];
  const load = async (): Promise<PostRow[]> => {
    at.push(readerPosition());
    return [{ id: `read at ${readerPosition()}` } as PostRow];
  };
  const as = <T>(position: bigint, fn: () => T): T => readContext.run({ min: () => position }, fn);
  const commit = (communityId: string, position: bigint) => {
    written = position;
    const hooks: (() => void)[] = [];
    pages.changed({ afterCommit: (hook: () => void) => void hooks.push(hook) } as never, communityId);
    for (const hook of hooks) hook();
  };
  return {
    pages,
    load,
    at,
    as,
    commit,
    told,
    hear: (message: string) => heard.forEach((onMessage) => onMessage(message)),
    heardFrom: (position: bigint) => (since = position),
  };
}

test('a kept page is served only to readers whose own last write it was read at', async () => {
  const { pages, load, at, as } = setup();
  assert.deepEqual(await as(0n, () => pages.rows('k', 'c1', load)), [{ id: 'read at 0' }]);
  assert.deepEqual(
    as(0n, () => pages.rows('k', 'c1', load)),
    [{ id: 'read at 0' }],
    'kept',
  );
  // A reader who wrote at 10 (through any process) is not served a page read before.
  assert.deepEqual(await as(10n, () => pages.rows('k', 'c1', load)), [{ id: 'read at 10' }]);
  assert.deepEqual(at, [0n, 10n]);
  // That page, read at 10, serves every reader at or below it.
  assert.deepEqual(
    as(5n, () => pages.rows('k', 'c1', load)),
    [{ id: 'read at 10' }],
  );
  assert.deepEqual(
    as(0n, () => pages.rows('k', 'c1', load)),
    [{ id: 'read at 10' }],
  );
  assert.equal(at.length, 2);
});

test('a read in flight is shared only with readers it covers', async () => {
  const { pages, load, at, as } = setup();
  const first = as(3n, () => pages.rows('k', 'c1', load));
  const lower = as(2n, () => pages.rows('k', 'c1', load));
  const higher = as(7n, () => pages.rows('k', 'c1', load));
  assert.deepEqual(await Promise.all([first, lower, higher]), [
    [{ id: 'read at 3' }],
    [{ id: 'read at 3' }],
    [{ id: 'read at 7' }],
  ]);
  assert.deepEqual(at, [3n, 7n]);
});

test("a change is read at its writer's position: this process's own, or the one its notice carries", async () => {
  const { pages, load, at, as, commit, told, hear } = setup();
  await as(0n, () => pages.rows('one', 'c1', load));
  await as(0n, () => pages.rows('all', null, load));
  await as(0n, () => pages.rows('two', 'c2', load));
  commit('c1', 40n);
  assert.deepEqual(await as(0n, () => pages.rows('one', 'c1', load)), [{ id: 'read at 40' }]);
  assert.deepEqual(await as(0n, () => pages.rows('all', null, load)), [{ id: 'read at 40' }]);
  assert.deepEqual(
    as(0n, () => pages.rows('two', 'c2', load)),
    [{ id: 'read at 0' }],
    'another community kept',
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(told, ['posts.changed @40,c1'], 'told with its position first');

  // Another process's change, heard: its communities are read at its position from then on.
  hear('@90,c2,c3');
  assert.deepEqual(await as(0n, () => pages.rows('two', 'c2', load)), [{ id: 'read at 90' }]);
  assert.deepEqual(await as(0n, () => pages.rows('one', 'c1', load)), [{ id: 'read at 40' }], 'c1 still at 40');
  assert.deepEqual(await as(0n, () => pages.rows('all', null, load)), [{ id: 'read at 90' }]);
  assert.deepEqual(await as(0n, () => pages.read(['c1', 'c3'], load)), [{ id: 'read at 90' }]);
  // An older process's notice (ids only) still drops the pages.
  hear('c1');
  assert.deepEqual(await as(0n, () => pages.rows('one', 'c1', load)), [{ id: 'read at 40' }]);
  assert.deepEqual(at, [0n, 0n, 0n, 40n, 40n, 90n, 90n, 90n, 40n]);
});

test('after a gap, reads are made at least where notices are heard from again', async () => {
  const { pages, load, as, heardFrom } = setup();
  await as(0n, () => pages.rows('one', 'c1', load));
  heardFrom(500n);
  assert.deepEqual(await as(0n, () => pages.read(['c9'], load)), [{ id: 'read at 500' }]);
  assert.deepEqual(await as(0n, () => pages.rows('two', 'c2', load)), [{ id: 'read at 500' }]);
});
