import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeStores, openTestStore } from '../../../test/support/stores.js';
import { createWriteCombiner, type Store, type StoreHandle } from './index.js';

describeStores('write combiner', (kind) => {
  let store: StoreHandle;
  let close: () => Promise<void>;
  let transactions = 0;
  let counting: Store;

  before(async () => {
    ({ store, close } = await openTestStore(kind));
    await store.write((tx) => tx.exec('CREATE TABLE t_combined (id TEXT PRIMARY KEY, n INTEGER NOT NULL)'));
    await store.write((tx) => tx.run("INSERT INTO t_combined (id, n) VALUES ('hot', 0)"));
    counting = Object.create(store, {
      write: { value: (fn: Parameters<Store['write']>[0]) => (transactions++, store.write(fn)) },
    }) as Store;
  });
  after(() => close());

  test('writes of one key arriving together all commit; one that throws is undone alone, its hooks never run', async () => {
    const write = createWriteCombiner(counting);
    transactions = 0;
    const hooked: number[] = [];
    const jobs = Array.from({ length: 20 }, (_, i) =>
      write('hot', async (tx) => {
        await tx.run('UPDATE t_combined SET n = n + 1 WHERE id = ?', ['hot']);
        await tx.run('INSERT INTO t_combined (id, n) VALUES (?, ?)', [`row-${i}`, i]);
        tx.afterCommit(() => hooked.push(i));
        if (i === 7) throw new Error('job 7 fails');
        return i;
      }),
    );
    const settled = await Promise.allSettled(jobs);
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
      Array.from({ length: 20 }, (_, i) => (i === 7 ? 'job 7 fails' : i)),
    );
    assert.equal((await store.q.get<{ n: number }>("SELECT n FROM t_combined WHERE id = 'hot'"))?.n, 19);
    assert.equal(await store.q.get("SELECT id FROM t_combined WHERE id = 'row-7'"), undefined);
    assert.equal(
      (await store.q.get<{ c: number }>("SELECT COUNT(*) AS c FROM t_combined WHERE id LIKE 'row-%'"))?.c,
      19,
    );
    assert.deepEqual(
      hooked.sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7),
    );
    if (kind === 'postgres') {
      // The first job runs at once; the 19 that arrived meanwhile share the next transaction
      // (run again, without job 7, after it threw).
      assert.ok(transactions <= 4, `20 jobs in ${transactions} transactions`);
    }
  });
});
