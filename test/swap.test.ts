import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadMigrations, migrate, openStore, type Store, type StoreHandle } from '../src/platform/store/index.js';
import { systemClock } from '../src/platform/clock.js';
import { chunksOf, plainTable } from '../src/platform/migration/copy.js';
import { liveTables } from '../src/platform/migration/schema.js';
import { migrationsDir } from '../src/paths.js';
import { signUp, startTestAppOn, type TestApp } from './support/app.js';
import { freshDatabase, needs } from './support/stores.js';

/**
 * The store swap's contract: a running app moved SQLite → PostgreSQL → SQLite
 * under concurrent reads and writes answers every read afterwards exactly as a
 * cold app on the final store does — no in-memory copy of a former store
 * survives the swap, no acknowledged write is lost, none is refused.
 */

/** Every row of every table but search's (its layout differs by dialect), copied in one transaction while writes are paused. */
async function copyAll(from: Store, to: Store): Promise<void> {
  const tables = (await liveTables(from)).filter((t) => !t.name.startsWith('search_'));
  assert.deepEqual(
    (await liveTables(to)).filter((t) => !t.name.startsWith('search_')).map((t) => t.name),
    tables.map((t) => t.name),
    'the two schemas hold the same tables',
  );
  await to.write(async (tx) => {
    // Tables in any order: SQLite checks the foreign keys at the commit; PostgreSQL's replica role skips them (a copy of a consistent store).
    await tx.exec(
      to.dialect === 'postgres' ? 'SET LOCAL session_replication_role = replica' : 'PRAGMA defer_foreign_keys = ON',
    );
    for (const table of tables.map(plainTable))
      for await (const { rows } of chunksOf(from, table, 1000)) await table.upsert(tx, to.dialect, rows);
  });
}

async function migratedStore(kind: 'sqlite' | 'postgres') {
  const db = await freshDatabase(kind);
  const store = openStore({ url: db.url, sqliteSync: 'normal', pgPoolSize: 5 });
  await migrate(store, loadMigrations(migrationsDir(), store.dialect), systemClock);
  return { db, store };
}

describe('the store swap under load [sqlite → postgres → sqlite]', needs('postgres'), () => {
  test('every answer afterwards is a cold app’s on the final store; every acknowledged write is there', async () => {
    const first = await freshDatabase('sqlite');
    const app: TestApp = await startTestAppOn(first, { AGORA_CACHE_TTL_MS: '60000' });
    const handle = app.agora.store as StoreHandle;
    const [alice, bob] = await Promise.all([signUp(app, 'sw_alice'), signUp(app, 'sw_bob')]);
    await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'sw_town', title: 'Town' } });
    await app.request('PUT', '/api/v1/communities/sw_town/subscription', { token: bob.token });
    const postId = (
      await app.request('POST', '/api/v1/communities/sw_town/posts', {
        token: alice.token,
        body: { title: 'the thread', body: 'talk here' },
      })
    ).body.id as string;

    // The paths whose answers are compared at the end (each read now, so the app keeps copies of them).
    const paths = [
      `/api/v1/posts/${postId}/comments`,
      `/api/v1/posts/${postId}`,
      '/api/v1/communities/sw_town/posts?sort=new',
      '/api/v1/communities/sw_town/posts?sort=hot',
      '/api/v1/communities/sw_town',
      '/api/v1/accounts/sw_alice',
    ];
    // A hot listing's cursor carries the time of its first page (posts made later stay off later pages): compared as present or not.
    const read = (a: TestApp, path: string, token?: string) =>
      a.request('GET', path, token ? { token } : {}).then((r) => {
        if (path.includes('sort=hot') && r.body?.nextCursor !== undefined)
          r.body.nextCursor = r.body.nextCursor !== null;
        return { status: r.status, body: r.body };
      });

    // Load: writers make comments, posts and votes; readers read the thread and the listings.
    const acknowledged = { comments: [] as string[], posts: [postId] };
    const failures: string[] = [];
    let running = true;
    const writer = async (token: string, n: number) => {
      for (let i = 0; running; i++) {
        const comment = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
          token,
          body: { body: `comment ${n}.${i}` },
        });
        if (comment.status === 201) acknowledged.comments.push(comment.body.id);
        else failures.push(`comment ${comment.status} ${JSON.stringify(comment.body)}`);
        if (i % 5 === 0) {
          const post = await app.request('POST', '/api/v1/communities/sw_town/posts', {
            token,
            body: { title: `post ${n}.${i}` },
          });
          if (post.status === 201) acknowledged.posts.push(post.body.id);
          else failures.push(`post ${post.status}`);
          const vote = await app.request('PUT', `/api/v1/posts/${post.body.id}/vote`, {
            token: token === alice.token ? bob.token : alice.token,
            body: { value: 1 },
          });
          if (vote.status !== 200) failures.push(`vote ${vote.status}`);
        }
      }
    };
    const reader = async () => {
      while (running) {
        for (const path of paths) {
          const r = await read(app, path, bob.token);
          if (r.status !== 200) failures.push(`read ${path} ${r.status}`);
        }
      }
    };
    const load = Promise.all([writer(alice.token, 1), writer(bob.token, 2), reader(), reader()]);

    const swapTo = async (next: { store: Store }, changedMeanwhile?: (store: Store) => Promise<void>) => {
      await Promise.all([handle.pauseWrites(), handle.pauseWrites()]); // two callers at once: both return
      await copyAll(handle.current, next.store);
      // What a migration's log may still bring to the new store before the swap: no copy may hide it.
      await changedMeanwhile?.(next.store);
      const old = handle.swap(next.store);
      handle.resumeWrites();
      return old;
    };
    await new Promise((r) => setTimeout(r, 300));
    const target = await migratedStore('postgres');
    const sqlite = await swapTo(target);
    assert.equal(handle.dialect, 'postgres');
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await load;
    // Quiet: every compared answer is read, and kept, from PostgreSQL.
    for (const path of paths) for (const token of [undefined, bob.token]) await read(app, path, token);
    const back = await migratedStore('sqlite');
    const postgres = await swapTo(back, async (store) => {
      const someComment = acknowledged.comments[acknowledged.comments.length - 1] as string; // the newest: shown first
      await store.write(async (tx) => {
        await tx.run(
          "UPDATE posts SET title = 'renamed meanwhile', comment_version = comment_version + 1 WHERE id = ?",
          [postId],
        );
        await tx.run(
          "UPDATE comments SET body = 'edited meanwhile', version = (SELECT comment_version FROM posts WHERE id = ?) WHERE id = ?",
          [postId, someComment],
        );
        await tx.run("UPDATE accounts SET post_karma = post_karma + 1000 WHERE username = 'sw_alice'");
        await tx.run("UPDATE communities SET subscriber_count = subscriber_count + 1000 WHERE name = 'sw_town'");
      });
    });
    assert.equal(handle.dialect, 'sqlite');
    await sqlite.close();
    await postgres.close();
    await target.db.drop();

    assert.deepEqual(failures, [], 'no read failed and no write was refused');
    assert.ok(acknowledged.comments.length > 10, `writes went on (${acknowledged.comments.length} comments)`);

    // Every acknowledged write is in the final store, once.
    const comments = await back.store.q.all<{ id: string }>('SELECT id FROM comments WHERE post_id = ?', [postId]);
    assert.deepEqual(comments.map((c) => c.id).sort(), [...acknowledged.comments].sort());
    const posts = await back.store.q.all<{ id: string }>('SELECT id FROM posts');
    assert.deepEqual(posts.map((p) => p.id).sort(), [...acknowledged.posts].sort());

    // The swapped app answers as a cold app on the final store (no copy of a former store left).
    const cold = await startTestAppOn({ url: back.db.url, drop: async () => {} });
    try {
      for (const path of paths) {
        for (const token of [undefined, bob.token]) {
          assert.deepEqual(
            await read(app, path, token),
            await read(cold, path, token),
            `${path} ${token ? 'signed in' : ''}`,
          );
        }
      }
      const post = (await read(app, `/api/v1/posts/${postId}`)).body;
      assert.equal(post.commentCount, acknowledged.comments.length, 'the thread counts every comment');
    } finally {
      await cold.close();
      await app.close(); // closes the handle's store: the final SQLite one
      await back.db.drop();
    }
  });
});
