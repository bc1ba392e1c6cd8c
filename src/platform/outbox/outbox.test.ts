import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createManualClock } from '../clock.js';
import { createIdGenerator } from '../ids.js';
import { createLogger } from '../log.js';
import type { StoreHandle } from '../store/index.js';
import { describeStores, openTestStore } from '../../../test/support/stores.js';
import { createOutbox, type OutboxEvent } from './index.js';

/** The topics of these tests (modules declare theirs beside their producers). */
declare module './index.js' {
  interface OutboxTopics {
    't.rollback': { n: number };
    't.flaky': { hello: string };
    't.mixed': { n: number };
    't.doomed': Record<string, never>;
    't.live': { x: string };
    't.shared': { i: number };
  }
}

describeStores('outbox', (kind) => {
  const clock = createManualClock();
  let store: StoreHandle;
  let url: string;
  let close: () => Promise<void>;
  const make = () =>
    createOutbox({
      store,
      clock,
      ids: createIdGenerator(() => clock.now()),
      log: createLogger('silent'),
      pollMs: 50,
      baseBackoffMs: 1000,
      maxBackoffMs: 60_000,
      maxAttempts: 5,
    });

  before(async () => {
    ({ store, url, close } = await openTestStore(kind, clock));
  });
  after(() => close());

  test('an event recorded in a transaction that rolls back is never delivered', async () => {
    const outbox = make();
    const seen: string[] = [];
    outbox.subscribe('t.rollback', 'h', async (e) => void seen.push(e.id));
    await assert.rejects(
      store.write(async (tx) => {
        await outbox.record(tx, 't.rollback', { n: 1 });
        throw new Error('rolled back');
      }),
    );
    const committed = await store.write((tx) => outbox.record(tx, 't.rollback', { n: 2 }));
    while ((await outbox.dispatchOnce()) > 0);
    assert.deepEqual(seen, [committed]);
    assert.equal((await outbox.backlog()).pending, 0);
  });

  test('a failing handler is retried with growing backoff and delivered later; handlers that succeeded are not rerun', async () => {
    const outbox = make();
    const attempts: { at: number; attempt: number }[] = [];
    let steadyRuns = 0;
    outbox.subscribe('t.flaky', 'steady', async () => void steadyRuns++);
    outbox.subscribe('t.flaky', 'flaky', async (e: OutboxEvent) => {
      attempts.push({ at: clock.now(), attempt: e.attempt });
      if (attempts.length < 3) throw new Error('mail server down');
    });
    const id = await store.write((tx) => outbox.record(tx, 't.flaky', { hello: 'world' }));
    const start = clock.now();

    assert.equal(await outbox.dispatchOnce(), 1); // fails: retry after ~1 s
    clock.advance(900);
    assert.equal(await outbox.dispatchOnce(), 0, 'not before the backoff');
    clock.advance(300);
    assert.equal(await outbox.dispatchOnce(), 1); // fails again: retry after ~2 s
    clock.advance(1500);
    assert.equal(await outbox.dispatchOnce(), 0, 'the second backoff is longer');
    clock.advance(1000);
    assert.equal(await outbox.dispatchOnce(), 1); // succeeds

    assert.deepEqual(
      attempts.map((a) => a.attempt),
      [1, 2, 3],
    );
    assert.deepEqual(
      attempts.map((a) => a.at - start),
      [0, 1200, 3700],
    );
    assert.equal(steadyRuns, 1, 'the handler that succeeded ran once');
    const row = await store.q.get<{ delivered_at: number | null; attempts: number }>(
      'SELECT delivered_at, attempts FROM outbox WHERE id = ?',
      [id],
    );
    assert.equal(row?.delivered_at, clock.now());
    assert.equal(row?.attempts, 3);
  });

  test('one pass marks its delivered events together; a failing one beside them is retried alone', async () => {
    const outbox = make();
    const seen: number[] = [];
    let failing = true;
    outbox.subscribe('t.mixed', 'h', async (e) => {
      const n = e.payload.n;
      seen.push(n);
      if (n === 3 && failing) throw new Error('not yet');
    });
    await store.write((tx) =>
      outbox.recordMany(
        tx,
        't.mixed',
        [1, 2, 3, 4, 5].map((n) => ({ n })),
      ),
    );
    assert.equal(await outbox.dispatchOnce(), 5);
    assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5]);
    assert.equal((await outbox.backlog()).pending, 1, 'four marked delivered, one waiting for its retry');
    failing = false;
    clock.advance(2000);
    while ((await outbox.dispatchOnce()) > 0);
    assert.deepEqual(seen.slice(5), [3], 'only the failed event again');
    assert.equal((await outbox.backlog()).pending, 0);
  });

  test('an event that keeps failing is set aside after maxAttempts and counted as failed', async () => {
    const outbox = make();
    outbox.subscribe('t.doomed', 'h', async () => {
      throw new Error('always');
    });
    await store.write((tx) => outbox.record(tx, 't.doomed', {}));
    for (let i = 0; i < 5; i++) {
      await outbox.dispatchOnce();
      clock.advance(120_000);
    }
    assert.equal(await outbox.dispatchOnce(), 0);
    const b = await outbox.backlog();
    assert.equal(b.failed, 1);
    assert.equal(b.pending, 0);
  });

  test('the running dispatcher delivers right after commit', async () => {
    const outbox = make();
    const got = new Promise<unknown>((resolve) => outbox.subscribe('t.live', 'h', async (e) => resolve(e.payload)));
    outbox.start();
    await store.write((tx) => outbox.record(tx, 't.live', { x: 'ü' }));
    assert.deepEqual(await got, { x: 'ü' });
    await outbox.stop();
  });

  if (kind === 'postgres') {
    test('two dispatching processes deliver each event exactly once between them', async () => {
      const outbox = make();
      const ids = await store.write(async (tx) => {
        const out: string[] = [];
        for (let i = 0; i < 200; i++) out.push(await outbox.record(tx, 't.shared', { i }));
        return out;
      });
      const worker = fileURLToPath(new URL('../../../test/support/dispatch-worker.js', import.meta.url));
      const procs = [0, 1].map(() => spawn(process.execPath, [worker, url], { stdio: ['pipe', 'pipe', 'inherit'] }));
      const delivered: { id: string; worker: number }[] = [];
      const ready = procs.map(
        (p, n) =>
          new Promise<void>((resolve) => {
            createInterface({ input: p.stdout }).on('line', (line) => {
              if (line === 'ready') resolve();
              else if (line.startsWith('delivered ')) delivered.push({ id: line.slice(10), worker: n });
            });
          }),
      );
      await Promise.all(ready);
      for (const p of procs) p.stdin.write('go\n');
      await Promise.all(procs.map((p) => new Promise((resolve) => p.on('exit', resolve))));
      const counts = new Map<string, number>();
      for (const d of delivered) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
      assert.equal(counts.size, ids.length, 'every event delivered');
      assert.ok(
        [...counts.values()].every((c) => c === 1),
        'no event delivered twice',
      );
      assert.ok(
        delivered.some((d) => d.worker === 0) && delivered.some((d) => d.worker === 1),
        'both processes took part',
      );
    });
  }
});
