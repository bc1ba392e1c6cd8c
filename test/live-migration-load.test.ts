// A "-load" test: it runs after the others, alone (PostgreSQL's snapshot horizon is the whole server's, so other
// files' transactions on the shared test server would hold the migration's applier back).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openStore, type Store } from '../src/platform/store/index.js';
import { signUp, signUpAdmin, startTestAppOn, type TestApp } from './support/app.js';
import { freshDatabase, needs, openTestStore, type StoreKind } from './support/stores.js';

/**
 * The live migration through its admin API, on a running app under load:
 * start → copy → stream → verify → cutover → writes on the target → rollback
 * (or finish), with every acknowledged write present exactly once where the
 * site's primary is, no 5xx and no refused write throughout.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 60_000,
  explain: () => Promise<unknown> = async () => '',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${JSON.stringify(await explain())}`);
    await sleep(25);
  }
}

interface Site {
  app: TestApp;
  admin: string;
  writers: { token: string }[];
  postId: string;
}

async function seed(app: TestApp, prefix: string): Promise<Site> {
  const admin = (await signUpAdmin(app, `${prefix}_admin`)).token;
  const writers = await Promise.all([signUp(app, `${prefix}_w1`), signUp(app, `${prefix}_w2`)]);
  const created = await app.request('POST', '/api/v1/communities', {
    token: admin,
    body: { name: `${prefix}_town`, title: 'Town' },
  });
  assert.equal(created.status, 201);
  const post = await app.request('POST', `/api/v1/communities/${prefix}_town/posts`, {
    token: admin,
    body: { title: 'the thread', body: 'talk here' },
  });
  assert.equal(post.status, 201);
  // Enough rows that the copy takes several chunks.
  for (let i = 0; i < 60; i++)
    await app.request('POST', `/api/v1/posts/${post.body.id}/comments`, {
      token: writers[i % 2]!.token,
      body: { body: `seed ${i}` },
    });
  return { app, admin, writers, postId: post.body.id as string };
}

/** Writers (comments, posts, votes) and readers (the thread) until stopped; what was acknowledged and what failed. */
function load(site: Site, prefix: string) {
  const acknowledged = { comments: [] as string[], posts: [] as string[] };
  const failures: string[] = [];
  let running = true;
  let reads = 0;
  const note = (what: string, status: number, body: unknown) => {
    if (status >= 400) failures.push(`${what}: ${status} ${JSON.stringify(body)}`);
  };
  const writer = async (token: string, n: number) => {
    for (let i = 0; running; i++) {
      const c = await site.app.request('POST', `/api/v1/posts/${site.postId}/comments`, {
        token,
        body: { body: `live ${n}.${i}` },
      });
      note('comment', c.status, c.body);
      if (c.status === 201) acknowledged.comments.push(c.body.id);
      if (i % 5 === 0) {
        const p = await site.app.request('POST', `/api/v1/communities/${prefix}_town/posts`, {
          token,
          body: { title: `post ${n}.${i}`, body: 'x' },
        });
        note('post', p.status, p.body);
        if (p.status === 201) acknowledged.posts.push(p.body.id);
        const v = await site.app.request('PUT', `/api/v1/posts/${site.postId}/vote`, {
          token,
          body: { value: i % 10 === 0 ? 1 : -1 },
        });
        note('vote', v.status, v.body);
      }
    }
  };
  const reader = async () => {
    while (running) {
      const r = await site.app.request('GET', `/api/v1/posts/${site.postId}/comments?limit=50`);
      note('read', r.status, r.body);
      reads++;
    }
  };
  const caught = (p: Promise<void>) =>
    p.catch((error: unknown) => {
      failures.push(`request failed: ${String(error)}`);
    });
  const all = Promise.all([
    caught(writer(site.writers[0]!.token, 1)),
    caught(writer(site.writers[1]!.token, 2)),
    caught(reader()),
    caught(reader()),
  ]);
  return {
    acknowledged,
    failures,
    get reads() {
      return reads;
    },
    async stop() {
      running = false;
      await all;
    },
  };
}

/** Each id appears exactly once in the table on this store. */
async function assertPresentOnce(store: Store, table: string, ids: readonly string[], where: string) {
  for (let i = 0; i < ids.length; i += 200) {
    const slice = ids.slice(i, i + 200);
    const found = await store.q.all<{ id: string }>(
      `SELECT id FROM ${table} WHERE id IN (${slice.map(() => '?').join(', ')})`,
      slice,
    );
    assert.equal(found.length, slice.length, `${table}: every acknowledged row is on the ${where}`);
  }
}

const open = (url: string) => openStore({ url, sqliteSync: 'normal', pgPoolSize: 2 });

/** The store's indexes, by name (those its primary and unique keys make aside). */
const indexNames = async (store: Store) =>
  (store.dialect === 'sqlite'
    ? await store.q.all<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND name NOT LIKE 'migration%' ORDER BY name",
      )
    : await store.q.all<{ name: string }>(
        "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE 'migration%' AND indexname NOT LIKE '%_pkey' ORDER BY indexname",
      )
  ).map((r) => r.name);

for (const [from, to] of [
  ['sqlite', 'postgres'],
  ['postgres', 'postgres'],
  ['postgres', 'sqlite'],
] as [StoreKind, StoreKind][]) {
  describe(`live migration [${from} → ${to}]`, needs('postgres'), () => {
    test('copy and stream under load, verify, cutover, write on the target, roll back: nothing lost, nothing refused', async () => {
      const sourceDb = await freshDatabase(from);
      const targetDb = await freshDatabase(to);
      const app = await startTestAppOn(sourceDb, { AGORA_MIGRATION_CHUNK_ROWS: '50' });
      let traffic: ReturnType<typeof load> | null = null;
      try {
        const site = await seed(app, 'lm');
        const running = load(site, 'lm');
        traffic = running;
        await sleep(100);

        const started = await app.request('POST', '/admin/migration', {
          token: site.admin,
          body: { target: targetDb.url },
        });
        assert.equal(started.status, 202, JSON.stringify(started.body));
        assert.equal(started.body.phase, 'copying');
        assert.ok(started.body.totalRows > 60, 'the rows to copy are counted');

        const second = await app.request('POST', '/admin/migration', {
          token: site.admin,
          body: { target: targetDb.url },
        });
        assert.equal(second.status, 409);
        assert.equal(second.body.error.code, 'migration_in_progress');

        // The copy fills the target without its secondary indexes, and builds them when it is done.
        const target = open(targetDb.url);
        const reference = await openTestStore(to);
        try {
          const all = await indexNames(reference.store);
          assert.ok(all.includes('comments_by_post_version') && all.includes('votes_by_account'));
          const whileCopying = await indexNames(target);
          if ((await app.agora.migrator.status()).phase === 'copying')
            assert.ok(!whileCopying.includes('comments_by_post_version'), 'deferred while the copy runs');
          await waitFor(
            'streaming',
            async () => (await app.agora.migrator.status()).phase === 'streaming',
            60_000,
            () => app.agora.migrator.status(),
          );
          assert.deepEqual(await indexNames(target), all, 'every index of the schema is on the target');
        } finally {
          await target.close();
          await reference.close();
        }
        const verified = await app.request('POST', '/admin/migration/verify', { token: site.admin });
        assert.equal(verified.status, 200, JSON.stringify(verified.body));
        assert.equal(
          verified.body.mismatches,
          0,
          JSON.stringify(verified.body.tables.filter((t: { mismatches: number }) => t.mismatches > 0)),
        );
        const tables = verified.body.tables.map((t: { name: string }) => t.name);
        for (const name of ['accounts', 'comments', 'posts', 'outbox', 'sessions', 'search_documents'])
          assert.ok(tables.includes(name), `${name} is verified`);

        const cut = await app.request('POST', '/admin/migration/cutover', { token: site.admin });
        assert.equal(cut.status, 200, JSON.stringify(cut.body));
        assert.equal(typeof cut.body.pauseMs, 'number');
        assert.equal(app.agora.store.dialect, to, 'the process serves from the target');
        const status = await app.request('GET', '/admin/migration', { token: site.admin });
        assert.equal(status.body.phase, 'cut_over');
        assert.equal(status.body.direction, 'target_to_source');

        // Writes go on, on the target; they flow back to the source.
        const before = running.acknowledged.comments.length;
        await waitFor('writes on the target', async () => running.acknowledged.comments.length > before + 20);
        await app.agora.migrator.caughtUp();
        const back = await app.request('POST', '/admin/migration/verify', { token: site.admin });
        assert.equal(back.status, 200);
        assert.equal(
          back.body.mismatches,
          0,
          JSON.stringify(back.body.tables.filter((t: { mismatches: number }) => t.mismatches > 0)),
        );

        const rolled = await app.request('POST', '/admin/migration/rollback', { token: site.admin });
        assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
        assert.equal(app.agora.store.dialect, from, 'the process serves from the source again');
        const afterRollback = running.acknowledged.comments.length;
        await waitFor(
          'writes on the source again',
          async () => running.acknowledged.comments.length > afterRollback + 10,
        );
        await running.stop();

        assert.deepEqual(running.failures, [], 'no 5xx, no refused write');
        const source = open(sourceDb.url);
        try {
          await assertPresentOnce(source, 'comments', running.acknowledged.comments, 'source after the rollback');
          await assertPresentOnce(source, 'posts', running.acknowledged.posts, 'source after the rollback');
        } finally {
          await source.close();
        }
        const ended = await app.request('GET', '/admin/migration', { token: site.admin });
        assert.equal(ended.body.phase, 'rolled_back');
        const again = await app.request('POST', '/admin/migration/cutover', { token: site.admin });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'not_ready');
      } finally {
        await traffic?.stop();
        await app.close();
        await targetDb.drop();
      }
    });
  });
}

describe('live migration: finish, and a process started with the old URL', needs('postgres'), () => {
  test('after finish the source is retired: a restart with its URL serves from the target and writes nothing to it', async () => {
    const sourceDb = await freshDatabase('sqlite');
    const targetDb = await freshDatabase('postgres');
    let app = await startTestAppOn({ url: sourceDb.url, drop: async () => {} });
    try {
      const site = await seed(app, 'fin');
      assert.equal(
        (await app.request('POST', '/admin/migration', { token: site.admin, body: { target: targetDb.url } })).status,
        202,
      );
      await waitFor('streaming', async () => (await app.agora.migrator.status()).phase === 'streaming');
      assert.equal((await app.request('POST', '/admin/migration/cutover', { token: site.admin })).status, 200);
      const onTarget = await app.request('POST', `/api/v1/posts/${site.postId}/comments`, {
        token: site.writers[0]!.token,
        body: { body: 'written on the target' },
      });
      assert.equal(onTarget.status, 201);
      await app.agora.migrator.caughtUp();
      const finished = await app.request('POST', '/admin/migration/finish', { token: site.admin });
      assert.equal(finished.status, 200, JSON.stringify(finished.body));
      assert.equal(finished.body.phase, 'done');
      await app.close();

      // Started again with the old (source) URL: it follows the target.
      app = await startTestAppOn({ url: sourceDb.url, drop: async () => {} });
      assert.equal(app.agora.store.dialect, 'postgres', 'the process serves from the target');
      const source = open(sourceDb.url);
      const count = async () => (await source.q.get<{ n: number }>('SELECT COUNT(*) AS n FROM comments'))?.n ?? -1;
      try {
        const rowsBefore = await count();
        const thread = await app.request('GET', `/api/v1/posts/${site.postId}/comments?limit=100`);
        assert.ok(JSON.stringify(thread.body).includes('written on the target'));
        const token = (
          await app.request('POST', '/api/v1/sessions', { body: { username: 'fin_w1', password: 'correct horse' } })
        ).body.token;
        const after = await app.request('POST', `/api/v1/posts/${site.postId}/comments`, {
          token,
          body: { body: 'after the restart' },
        });
        assert.equal(after.status, 201);
        assert.equal(await count(), rowsBefore, 'nothing is written to the retired source');
        const target = open(targetDb.url);
        try {
          assert.ok(
            await target.q.get('SELECT id FROM comments WHERE id = ?', [after.body.id]),
            'the write is on the target',
          );
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    } finally {
      await app.close();
      await sourceDb.drop();
      await targetDb.drop();
    }
  });
});

describe('live migration: bad input changes nothing', needs('postgres'), () => {
  test('admins only; an unusable target is a 400 naming why; commands out of phase are 409', async () => {
    const sourceDb = await freshDatabase('sqlite');
    const app = await startTestAppOn(sourceDb);
    const busy = await freshDatabase('postgres');
    try {
      const site = await seed(app, 'bad');
      assert.equal((await app.request('GET', '/admin/migration')).status, 401);
      assert.equal((await app.request('GET', '/admin/migration', { token: site.writers[0]!.token })).status, 403);
      const idle = await app.request('GET', '/admin/migration', { token: site.admin });
      assert.equal(idle.body.phase, 'idle');

      // A target with someone else's data in it.
      const other = open(busy.url);
      await other.write((tx) =>
        tx.exec("CREATE TABLE accounts (id TEXT PRIMARY KEY); INSERT INTO accounts VALUES ('x')"),
      );
      await other.close();
      const unreachable = 'postgres://nobody:secret@127.0.0.1:1/none';
      for (const [target, words] of [
        ['mysql://x/y', 'postgres://'],
        [sourceDb.url, 'serves from'],
        [unreachable, 'cannot reach'],
        [busy.url, 'not empty'],
      ] as [string, string][]) {
        const r = await app.request('POST', '/admin/migration', { token: site.admin, body: { target } });
        assert.equal(r.status, 400, target);
        assert.equal(r.body.error.code, 'invalid_target');
        assert.ok(r.body.error.message.includes(words), r.body.error.message);
        assert.ok(!r.body.error.message.includes('secret'), 'no password in the answer');
      }
      const body = await app.request('POST', '/admin/migration', { token: site.admin, body: {} });
      assert.equal(body.status, 400);
      for (const path of [
        '/admin/migration/cutover',
        '/admin/migration/rollback',
        '/admin/migration/finish',
        '/admin/migration/verify',
      ]) {
        const r = await app.request('POST', path, { token: site.admin });
        assert.equal(r.status, 409, path);
        assert.equal(r.body.error.code, 'not_ready');
      }
      assert.equal((await app.request('DELETE', '/admin/migration', { token: site.admin })).status, 409);
      const still = await app.request('GET', '/admin/migration', { token: site.admin });
      assert.equal(still.body.phase, 'idle', 'nothing started');
      const triggers = await app.agora.store.q.all(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'migration%'",
      );
      assert.deepEqual(triggers, [], 'no capture was installed');
    } finally {
      await app.close();
      await busy.drop();
    }
  });
});
