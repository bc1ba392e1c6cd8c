import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeStores, needs, openTestStore } from '../../../test/support/stores.js';
import { openStore, StoreError, type StoreHandle } from './index.js';

describeStores('store contract', (kind) => {
  let store: StoreHandle;
  let close: () => Promise<void>;

  before(async () => {
    ({ store, close } = await openTestStore(kind));
    await store.write((tx) =>
      tx.exec(`CREATE TABLE t_items (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, n BIGINT NOT NULL);
               CREATE TABLE t_stock (id TEXT PRIMARY KEY, sold INTEGER NOT NULL, stock INTEGER NOT NULL)`),
    );
  });
  after(() => close());

  test('a committed write is read back with the same types', async () => {
    const big = Date.UTC(2030, 0, 1);
    await store.write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['a', 'héllo 👋', big]));
    const row = await store.q.get<{ id: string; name: string; n: number }>(
      'SELECT id, name, n FROM t_items WHERE id = ?',
      ['a'],
    );
    assert.deepEqual(row, { id: 'a', name: 'héllo 👋', n: big });
    const count = await store.q.get<{ c: number }>('SELECT COUNT(*) AS c FROM t_items');
    assert.equal(count?.c, 1);
  });

  test('a transaction that throws leaves nothing behind, and afterCommit does not run', async () => {
    let hooked = false;
    await assert.rejects(
      store.write(async (tx) => {
        await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['b', 'b', 1]);
        tx.afterCommit(() => (hooked = true));
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await store.q.get('SELECT id FROM t_items WHERE id = ?', ['b']), undefined);
    assert.equal(hooked, false);
  });

  test('afterCommit runs once the write is visible', async () => {
    let seen: unknown = 'not run';
    await store.write(async (tx) => {
      await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['c', 'c', 1]);
      tx.afterCommit(() => {
        seen = 'ran';
      });
    });
    assert.equal(seen, 'ran');
    assert.ok(await store.q.get('SELECT id FROM t_items WHERE id = ?', ['c']));
  });

  test('a unique violation is translated, and concurrent writes beside it still commit', async () => {
    const results = await Promise.allSettled([
      store.write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['d1', 'dup', 1])),
      store.write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['d2', 'dup', 1])),
      store.write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['d3', 'other', 1])),
    ]);
    const failures = results.filter((r) => r.status === 'rejected');
    assert.equal(failures.length, 1);
    const reason = (failures[0] as PromiseRejectedResult).reason;
    assert.ok(reason instanceof StoreError);
    assert.equal(reason.kind, 'unique');
    assert.ok(await store.q.get('SELECT id FROM t_items WHERE id = ?', ['d3']));
  });

  test('statements sent together: the first failure is the error, and nothing of the transaction stays', async () => {
    await store.write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['p0', 'taken', 1]));
    const failed = store.write(async (tx) => {
      // The second statement makes the writer refuse; its error reaches Promise.all only
      // after the third statement has settled — on PostgreSQL that one is refused "in a
      // failed transaction" and so reaches Promise.all first.
      let third: Promise<unknown> = Promise.resolve();
      const second = (async () => {
        try {
          return await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['p3', 'taken', 1]);
        } catch (error) {
          await third.catch(() => undefined);
          throw error;
        }
      })();
      third = tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['p4', 'p4', 1]);
      await Promise.all([tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['p2', 'p2', 1]), second, third]);
    });
    await assert.rejects(failed, (error: unknown) => error instanceof StoreError && error.kind === 'unique');
    const left = await store.q.all<{ id: string }>("SELECT id FROM t_items WHERE id IN ('p2', 'p3', 'p4') ORDER BY id");
    assert.deepEqual(left, []);
  });

  test('commitEarly: the statements commit with it, or none does when one fails', async () => {
    let hooked = false;
    const value = await store.write(async (tx) => {
      const writes = Promise.all([
        tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['e1', 'e1', 1]),
        tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['e2', 'e2', 2]),
      ]);
      tx.commitEarly();
      tx.afterCommit(() => (hooked = true));
      return (await writes).length;
    });
    assert.equal(value, 2);
    assert.equal(hooked, true);
    assert.equal((await store.q.all("SELECT id FROM t_items WHERE id IN ('e1', 'e2')")).length, 2);

    hooked = false;
    const failed = store.write(async (tx) => {
      const writes = Promise.all([
        tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['e3', 'e3', 1]),
        tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['e4', 'e1', 1]), // name taken
      ]);
      tx.commitEarly();
      tx.afterCommit(() => (hooked = true));
      await writes;
    });
    await assert.rejects(failed, (error: unknown) => error instanceof StoreError && error.kind === 'unique');
    assert.equal(hooked, false);
    assert.deepEqual(await store.q.all("SELECT id FROM t_items WHERE id IN ('e3', 'e4')"), []);
  });

  test('concurrent conditional increments never pass the limit', async () => {
    await store.write((tx) => tx.run('INSERT INTO t_stock (id, sold, stock) VALUES (?, ?, ?)', ['s', 0, 100]));
    const attempts = Array.from({ length: 300 }, () =>
      store.write((tx) => tx.run('UPDATE t_stock SET sold = sold + 1 WHERE id = ? AND sold + 1 <= stock', ['s'])),
    );
    const changed = (await Promise.all(attempts)).reduce((a, b) => a + b, 0);
    assert.equal(changed, 100);
    assert.deepEqual(await store.q.get('SELECT sold FROM t_stock WHERE id = ?', ['s']), { sold: 100 });
  });

  test('read() sees one snapshot', async () => {
    const seen = await store.read(async (q) => {
      const before = await q.get<{ c: number }>('SELECT COUNT(*) AS c FROM t_items');
      await store.write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['e', 'e', 1]));
      const after = await q.get<{ c: number }>('SELECT COUNT(*) AS c FROM t_items');
      return [before?.c, after?.c];
    });
    assert.equal(seen[0], seen[1]);
    const now = await store.q.get<{ c: number }>('SELECT COUNT(*) AS c FROM t_items');
    assert.equal(now?.c, (seen[0] ?? 0) + 1);
  });

  test('bulk reads see the latest commit as q does; a blob arrives as bytes; a bad statement is a StoreError', async () => {
    await store.write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bulk', 'b', 7]));
    const sql = 'SELECT id, name, n FROM t_items WHERE id = ?';
    assert.deepEqual(await store.bulk.get(sql, ['bulk']), await store.q.get(sql, ['bulk']));
    assert.deepEqual(await store.bulk.all(sql, ['bulk']), [{ id: 'bulk', name: 'b', n: 7 }]);
    const blob = kind === 'sqlite' ? "CAST('héllo' AS BLOB)" : "convert_to('héllo', 'UTF8')";
    const bytes = (await store.bulk.get<{ b: Uint8Array }>(`SELECT ${blob} AS b`))?.b;
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(Buffer.from(bytes).toString(), 'héllo');
    await assert.rejects(store.bulk.all('SELECT nope FROM t_items'), StoreError);
    // The bulk reader goes on after a failure.
    assert.equal(
      (await store.bulk.get<{ c: number }>('SELECT COUNT(*) AS c FROM t_items WHERE id = ?', ['bulk']))?.c,
      1,
    );
  });

  test('bulkWrite: one transaction that commits or rolls back whole; bytes arrive intact; errors translated', async () => {
    const text = kind === 'sqlite' ? 'CAST(? AS TEXT)' : "convert_from(?, 'UTF8')";
    const long = 'ünïcode '.repeat(20_000); // a buffer of its own memory, moved to the store's worker on PostgreSQL
    let hooked = 0;
    const seen = await store.bulkWrite(async (tx) => {
      await tx.run(`INSERT INTO t_items (id, name, n) VALUES (?, ${text}, ?)`, ['bw1', Buffer.from(long), 1]);
      await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bw2', 'bw2', 2]);
      tx.afterCommit(() => hooked++);
      assert.equal(hooked, 0);
      return tx.all<{ id: string }>("SELECT id FROM t_items WHERE id LIKE 'bw%' ORDER BY id");
    });
    assert.deepEqual(seen, [{ id: 'bw1' }, { id: 'bw2' }]);
    assert.equal(hooked, 1);
    assert.equal((await store.q.get<{ name: string }>('SELECT name FROM t_items WHERE id = ?', ['bw1']))?.name, long);

    await assert.rejects(
      store.bulkWrite(async (tx) => {
        await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bw3', 'bw3', 3]);
        tx.afterCommit(() => hooked++);
        throw new Error('boom');
      }),
      /boom/,
    );
    await assert.rejects(
      store.bulkWrite(async (tx) => {
        await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bw4', 'bw4', 4]);
        await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bw5', 'bw2', 5]); // name is unique
      }),
      (error: unknown) => error instanceof StoreError && error.kind === 'unique',
    );
    assert.equal(hooked, 1);
    const left = await store.q.all<{ id: string }>("SELECT id FROM t_items WHERE id LIKE 'bw%' ORDER BY id");
    assert.deepEqual(left, [{ id: 'bw1' }, { id: 'bw2' }]);
  });

  test('bulkWrite beside writes and reads: a write issued during it waits for it, reads go on, two at once both commit', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const bulk = store.bulkWrite(async (tx) => {
      await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bx1', 'bx1', 1]);
      await gate;
      order.push('bulk');
    });
    const other = store.bulkWrite(async (tx) => {
      await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bx2', 'bx2', 2]);
      order.push('other bulk');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const write = store.write(async (tx) => {
      await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['bx3', 'bx3', 3]);
      order.push('write');
    });
    // Reads are answered while the bulk transaction is open, and do not see it.
    assert.equal((await store.q.get<{ c: number }>("SELECT COUNT(*) AS c FROM t_items WHERE id = 'bx1'"))?.c, 0);
    release();
    await Promise.all([bulk, other, write]);
    // SQLite has one writer: the write and the second bulk transaction wait for the first, and waiting writes go
    // first. On PostgreSQL each has its own connection and these rows do not conflict: any order.
    if (kind === 'sqlite') assert.deepEqual(order, ['bulk', 'write', 'other bulk']);
    else assert.deepEqual([...order].sort(), ['bulk', 'other bulk', 'write']);
    const ids = await store.q.all<{ id: string }>("SELECT id FROM t_items WHERE id LIKE 'bx%' ORDER BY id");
    assert.deepEqual(ids, [{ id: 'bx1' }, { id: 'bx2' }, { id: 'bx3' }]);
  });

  test('a question mark inside a string literal is not a placeholder', async () => {
    const row = await store.q.get<{ a: string; b: string }>("SELECT '?' AS a, ? AS b", ['x']);
    assert.deepEqual(row, { a: '?', b: 'x' });
  });

  test('pauseWrites holds new writes until resumed; read-only refuses them', async () => {
    await store.pauseWrites();
    let done = false;
    const pending = store
      .write((tx) => tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['p', 'p', 1]))
      .then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false);
    store.resumeWrites();
    await pending;
    assert.equal(done, true);

    store.setReadOnly(true);
    await assert.rejects(
      store.write((tx) => tx.run('DELETE FROM t_items')),
      (e: unknown) => e instanceof StoreError && e.kind === 'read_only',
    );
    store.setReadOnly(false);
  });

  test('a notice reaches the subscribers when its write commits, never when it rolls back', async () => {
    const heard: string[] = [];
    store.notices.subscribe(
      't_topic',
      (message) => heard.push(message),
      () => heard.push('gap'),
    );
    store.notices.subscribe(
      't_other',
      (message) => heard.push(`other ${message}`),
      () => undefined,
    );
    await store.write(async (tx) => {
      await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['n1', 'n1', 1]);
      await store.notices.publish(tx, 't_topic', 'changed n1 ✓');
      assert.deepEqual(heard, [], 'not before the commit');
    });
    assert.deepEqual(heard, ['changed n1 ✓'], 'at the commit, once, to its topic only');
    await assert.rejects(
      store.write(async (tx) => {
        await store.notices.publish(tx, 't_topic', 'rolled back');
        throw new Error('boom');
      }),
      /boom/,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(heard, ['changed n1 ✓'], 'nothing from a rolled-back write, and no echo of its own');
  });

  test('pauseWrites waits for a running write to finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const running = store.write(async (tx) => {
      await tx.run('INSERT INTO t_items (id, name, n) VALUES (?, ?, ?)', ['w', 'w', 1]);
      await gate;
    });
    await new Promise((r) => setTimeout(r, 20));
    let paused = false;
    const pausing = store.pauseWrites().then(() => (paused = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(paused, false);
    release();
    await running;
    await pausing;
    assert.equal(paused, true);
    store.resumeWrites();
  });
});

describe('notices across processes [postgres]', needs('postgres'), () => {
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(ok(), what);
  };

  test('a notice one process publishes reaches the others at its commit; a lost listening connection is a gap', async () => {
    const { store: a, url, close } = await openTestStore('postgres');
    const b = openStore({ url, sqliteSync: 'normal', pgPoolSize: 2 });
    try {
      const heard: string[] = [];
      let sinceAtGap: bigint | null = null;
      b.notices.subscribe(
        't_topic',
        (message) => heard.push(message),
        () => {
          sinceAtGap = b.notices.heardSince();
          heard.push('gap');
        },
      );
      await until('b listens', () => b.notices.hearing);
      const first = b.notices.heardSince();
      assert.ok(first > 0n, 'hearing from a position of the primary');
      await a.write((tx) => a.notices.publish(tx, 't_topic', 'from a: tab\there'));
      await until('b hears a', () => heard.length === 1);
      assert.deepEqual(heard, ['from a: tab\there']);

      // The listening connection is cut (a restart, a network fault): b is told, stops
      // counting on notices, and listens again.
      await a.q.get(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'agora-notices' AND datname = current_database()",
      );
      await until('b is told of the gap', () => heard.includes('gap'));
      assert.equal(sinceAtGap, 0n, 'hearing from nowhere while not hearing');
      await until('b listens again', () => b.notices.hearing);
      // Everything committed before it listened again (the notice above, told while nobody
      // listened or not) is before the position it hears from now.
      assert.ok(b.notices.heardSince() > first);
      await a.write((tx) => a.notices.publish(tx, 't_topic', 'after the gap'));
      await until('b hears a again', () => heard.at(-1) === 'after the gap');
    } finally {
      await b.close();
      await close();
    }
  });
});
