import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signUp, startTestAppOn, type TestApp } from './support/app.js';
import { describeStores, freshDatabase } from './support/stores.js';

/**
 * More concurrent writes than connections, on a process that has just
 * started: a write's transaction holds a connection, so nothing it waits for
 * may need another one. (A comment vote once looked up its post's community
 * outside its transaction on a cold process: with the pool full of such
 * votes, each waited for a connection the others held, and the process
 * answered nothing more — not even its shutdown.)
 */
describeStores('more concurrent writes than connections, on a cold process', (kind) => {
  test('comment votes, post votes and moderator removals all answer', { timeout: 120_000 }, async () => {
    const db = await freshDatabase(kind);
    const on = { url: db.url, drop: async () => {} };
    const users = 6;
    let seeding: TestApp | null = await startTestAppOn(on);
    const seeded = await (async (app: TestApp) => {
      const mod = await signUp(app, 'pool_mod');
      const voters = await Promise.all(Array.from({ length: users }, (_, i) => signUp(app, `pool_voter${i}`)));
      await app.request('POST', '/api/v1/communities', {
        token: mod.token,
        body: { name: 'pool_town', title: 'Town' },
      });
      const post = await app.request('POST', '/api/v1/communities/pool_town/posts', {
        token: mod.token,
        body: { title: 'the thread' },
      });
      const comments: string[] = [];
      for (let i = 0; i < users + 2; i++)
        comments.push(
          (
            await app.request('POST', `/api/v1/posts/${post.body.id}/comments`, {
              token: mod.token,
              body: { body: `comment ${i}` },
            })
          ).body.id,
        );
      return { mod, voters, postId: post.body.id as string, comments };
    })(seeding);
    await seeding.close();
    seeding = null;

    // A restart with two connections: nothing is known in memory yet.
    const app = await startTestAppOn(on, { AGORA_PG_POOL_SIZE: '2' });
    try {
      const timeout = () => AbortSignal.timeout(20_000);
      const send = (method: string, path: string, token: string, body?: unknown) =>
        fetch(app.base + path, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: timeout(),
        }).then(
          (r) => `${method} ${path} ${r.status}`,
          (error: Error) => `${method} ${path} ${error.name}`,
        );
      const answers = await Promise.all([
        ...seeded.voters.map((v, i) =>
          send('PUT', `/api/v1/comments/${seeded.comments[i]}/vote`, v.token, { value: 1 }),
        ),
        ...seeded.voters.map((v) => send('PUT', `/api/v1/posts/${seeded.postId}/vote`, v.token, { value: -1 })),
        send('POST', `/api/v1/comments/${seeded.comments[users]}/removal`, seeded.mod.token, { reason: 'spam' }),
        send('POST', `/api/v1/comments/${seeded.comments[users + 1]}/removal`, seeded.mod.token, { reason: 'spam' }),
      ]);
      const expected = answers.map((a) => a.replace(/ \S+$/, ' 200'));
      assert.deepEqual(answers, expected);
      // And every one of them took effect.
      for (let i = 0; i < users; i++)
        assert.equal(
          (await app.request('GET', `/api/v1/comments/${seeded.comments[i]}`)).body.score,
          2,
          `comment ${i}`,
        );
      for (const i of [users, users + 1])
        assert.equal((await app.request('GET', `/api/v1/comments/${seeded.comments[i]}`)).body.body, null);
      const post = await app.request('GET', `/api/v1/posts/${seeded.postId}`);
      assert.equal(post.body.score, 1 - users);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
