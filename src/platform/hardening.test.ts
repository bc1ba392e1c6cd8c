import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatcher } from './batch.js';
import { createCursors } from './cursor.js';
import { AppError } from './errors.js';
import { clientKey } from './http/index.js';
import { createMemoryBudget, sizeOf } from './memory.js';
import { sortInSlices } from './slices.js';

const ID = '01JBZ8Q4V7W0000000000000AA';

test('cursors: a list reads back only what it issued, with exact types; anything else is 400 invalid_cursor', () => {
  const cursors = createCursors(Buffer.alloc(32, 7));
  const cursor = cursors.encode('posts:top:all', [12.5, ID, ID, 0]);
  assert.deepEqual(cursors.decode('posts:top:all', cursor, ['number', 'id', 'id', 'int']), [12.5, ID, ID, 0]);
  const refused = (list: string, text: string, shape: Parameters<typeof cursors.decode>[2]) =>
    assert.throws(
      () => cursors.decode(list, text, shape),
      (e: unknown) => e instanceof AppError && e.code === 'invalid_cursor' && e.status === 400,
    );
  refused('posts:top:day', cursor, ['number', 'id', 'id', 'int']); // another list's cursor
  refused('posts:top:all', cursor, ['number', 'id', 'id']); // another shape
  const [payload, mac] = cursor.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify(['posts:top:all', 1e308, ID, ID, 0])).toString('base64url');
  refused('posts:top:all', `${forged}.${mac}`, ['number', 'id', 'id', 'int']); // payload changed, mac kept
  refused('posts:top:all', `${payload}.${mac.slice(0, -2)}AA`, ['number', 'id', 'id', 'int']); // mac changed
  refused('posts:top:all', Buffer.from('[1.5]').toString('base64url'), ['int']); // the old unsigned shape
  refused('x', '', ['int']);
  refused('x', '.'.repeat(2000), ['int']);
  // Signed by this site but of the wrong type for the list: still refused.
  refused('search:posts', cursors.encode('search:posts', [1.5]), ['int']);
  refused('search:posts', cursors.encode('search:posts', [2 ** 60]), ['int']);
  refused('orders', cursors.encode('orders', ["'; DROP TABLE x; --"]), ['id']);
  // Another site's key: refused.
  refused('posts:top:all', createCursors(Buffer.alloc(32, 8)).encode('posts:top:all', [12.5, ID, ID, 0]), [
    'number',
    'id',
    'id',
    'int',
  ]);
});

test('client keys: IPv4 as is, IPv6 per /64 network, IPv4-mapped IPv6 as IPv4', () => {
  assert.equal(clientKey('203.0.113.9'), '203.0.113.9');
  assert.equal(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:2:ffff:ffff:ffff:fffe'));
  assert.equal(clientKey('2001:0db8:0001:0002:0:0:0:1'), clientKey('2001:db8:1:2::abcd'));
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
  assert.equal(clientKey('::ffff:198.51.100.4'), '198.51.100.4');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
});

test('memory budget: least recently used entries of any owner go first; an entry larger than the budget is not kept', () => {
  const budget = createMemoryBudget(1000);
  const evicted: string[] = [];
  const a = budget.charge('trees', 400, () => evicted.push('a'));
  budget.charge('pages', 400, () => evicted.push('b'));
  a.touch();
  budget.charge('pages', 400, () => evicted.push('c'));
  assert.deepEqual(evicted, ['b'], 'b was the least recently used');
  assert.equal(budget.used, 800);
  a.resize(700);
  assert.deepEqual(evicted, ['b', 'c'], 'a grew (a use): the least recently used other goes');
  assert.equal(budget.used, 700);
  budget.charge('search', 5000, () => evicted.push('huge'));
  assert.ok(evicted.includes('huge') && budget.used <= 1000, 'a too large entry is evicted at once');
  a.release();
  assert.equal(budget.used, 0);
  assert.equal(budget.usedBy().get('trees'), 0);
  assert.ok(sizeOf({ title: 'x'.repeat(1000) }) > 2000, 'strings count two bytes a character');
});

test('a batch where one item fails answers the others: each is run again alone', async () => {
  const runs: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const batch = createBatcher<string, string>(async (_key, items) => {
    runs.push(items);
    if (items[0] === 'first') await gate;
    if (items.includes('bad')) throw new Error('bad item');
    return items.map((i) => i.toUpperCase());
  });
  const first = batch('k', 'first');
  const rest = ['x', 'bad', 'y'].map((item) =>
    batch('k', item).then(
      (v) => v,
      (e: Error) => e.message,
    ),
  );
  release();
  assert.equal(await first, 'FIRST');
  assert.deepEqual(await Promise.all(rest), ['X', 'bad item', 'Y']);
  assert.deepEqual(runs, [['first'], ['x', 'bad', 'y'], ['x'], ['bad'], ['y']]);
});

test('sortInSlices sorts like Array.sort (stable) and yields to the loop between slices', async () => {
  const items = Array.from({ length: 20_000 }, (_, i) => ({ key: (i * 7919) % 1000, i }));
  let turns = 0;
  const timer = setInterval(() => turns++, 0);
  const sorted = await sortInSlices(items, (a, b) => a.key - b.key, 1000);
  clearInterval(timer);
  assert.deepEqual(
    sorted,
    [...items].sort((a, b) => a.key - b.key),
  );
  assert.ok(turns > 0, 'timers ran while it sorted');
});
