import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createManualClock } from '../../platform/clock.js';
import { signUp, startTestApp, twoProcesses, type TestApp } from '../../../test/support/app.js';
import { describeStores, needs } from '../../../test/support/stores.js';
import { controversy, hot } from './ranks.js';

type Page = {
  items: { id: string; title: string; score: number; upvotes: number; downvotes: number }[];
  nextCursor: string | null;
};

describeStores('posts, votes, listings and feed', (kind) => {
  const clock = createManualClock(Date.UTC(2026, 5, 1));
  let app: TestApp;
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  let carol: { token: string; id: string };
  const post = async (token: string, community: string, title: string, extra: Record<string, string> = {}) => {
    clock.advance(1000);
    const res = await app.request('POST', `/api/v1/communities/${community}/posts`, {
      token,
      body: { title, ...extra },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string };
  };
  const vote = (token: string, id: string, value: number) =>
    app.request('PUT', `/api/v1/posts/${id}/vote`, { token, body: { value } });
  const walk = async (path: string, between?: () => Promise<void>) => {
    const ids: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: { body: Page } = await app.request(
        'GET',
        `${path}${path.includes('?') ? '&' : '?'}limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      ids.push(...page.body.items.map((p) => p.id));
      cursor = page.body.nextCursor;
      await between?.();
    }
    return ids;
  };

  before(async () => {
    // Feeds of up to 20 subscriptions merge per-community pages; the 22-subscription feed below walks the global index.
    app = await startTestApp(kind, { AGORA_FEED_MERGE_LIMIT: '20' }, clock);
    [alice, bob, carol] = await Promise.all([signUp(app, 'p_alice'), signUp(app, 'p_bob'), signUp(app, 'p_carol')]);
    for (const name of ['p_tech', 'p_art'])
      await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name, title: name } });
  });
  after(() => app.close());

  test("create text and link posts: 201 post with the author's own upvote", async () => {
    const text = await app.request('POST', '/api/v1/communities/p_tech/posts', {
      token: bob.token,
      body: { title: 'Hello', body: 'World' },
    });
    assert.equal(text.status, 201);
    assert.equal(text.body.author, 'p_bob');
    assert.equal(text.body.communityName, 'p_tech');
    assert.deepEqual([text.body.score, text.body.upvotes, text.body.downvotes, text.body.myVote], [1, 1, 0, 1]);
    assert.equal(text.body.editedAt, null);
    const link = await app.request('POST', '/api/v1/communities/p_tech/posts', {
      token: bob.token,
      body: { title: 'A link', url: 'https://example.com/x' },
    });
    assert.equal(link.body.url, 'https://example.com/x');
    for (const [body, field] of [
      [{ title: '' }, 'title'],
      [{ title: 'x'.repeat(301) }, 'title'],
      [{ title: 'ok', url: 'javascript:alert(1)' }, 'url'],
      [{ title: 'ok', body: 'x'.repeat(40_001) }, 'body'],
    ] as const) {
      const bad = await app.request('POST', '/api/v1/communities/p_tech/posts', { token: bob.token, body });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.field, field);
    }
    assert.equal(
      (await app.request('POST', '/api/v1/communities/nowhere_x/posts', { token: bob.token, body: { title: 'x' } }))
        .status,
      404,
    );
    assert.equal((await app.request('POST', '/api/v1/communities/p_tech/posts', { body: { title: 'x' } })).status, 401);
    const karma = await app.request('GET', '/api/v1/accounts/p_bob');
    assert.deepEqual(karma.body.karma, { post: 0, comment: 0 }, 'the own upvote earns no karma');
  });

  test("edit and delete are the author's only (403 forbidden); delete leaves a shell", async () => {
    const p = await post(carol.token, 'p_tech', 'Editable', { body: 'first' });
    assert.equal(
      (await app.request('PATCH', `/api/v1/posts/${p.id}`, { token: bob.token, body: { body: 'hijack' } })).body.error
        .code,
      'forbidden',
    );
    const edited = await app.request('PATCH', `/api/v1/posts/${p.id}`, {
      token: carol.token,
      body: { body: 'second' },
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.body, 'second');
    assert.equal(edited.body.editedAt, clock.now());
    assert.equal((await app.request('DELETE', `/api/v1/posts/${p.id}`, { token: bob.token })).status, 403);
    assert.equal((await app.request('DELETE', `/api/v1/posts/${p.id}`, { token: carol.token })).status, 204);
    assert.equal(
      (await app.request('DELETE', `/api/v1/posts/${p.id}`, { token: carol.token })).status,
      204,
      'idempotent',
    );
    const shell = await app.request('GET', `/api/v1/posts/${p.id}`);
    assert.deepEqual(
      [shell.body.deleted, shell.body.body, shell.body.author, shell.body.title],
      [true, null, null, 'Editable'],
    );
    assert.equal(
      (await app.request('PATCH', `/api/v1/posts/${p.id}`, { token: carol.token, body: { body: 'x' } })).status,
      404,
    );
    assert.equal((await vote(bob.token, p.id, 1)).status, 404);
    assert.equal((await app.request('GET', '/api/v1/posts/nope')).status, 404);
  });

  test('votes are idempotent, 0 clears, and karma counts votes from others only', async () => {
    const p = await post(alice.token, 'p_art', 'Votable');
    assert.deepEqual((await vote(bob.token, p.id, 1)).body, { score: 2, upvotes: 2, downvotes: 0, myVote: 1 });
    assert.deepEqual((await vote(bob.token, p.id, 1)).body, { score: 2, upvotes: 2, downvotes: 0, myVote: 1 });
    assert.deepEqual((await vote(carol.token, p.id, -1)).body, { score: 1, upvotes: 2, downvotes: 1, myVote: -1 });
    assert.deepEqual((await vote(bob.token, p.id, -1)).body, { score: -1, upvotes: 1, downvotes: 2, myVote: -1 });
    assert.deepEqual((await vote(carol.token, p.id, 0)).body, { score: 0, upvotes: 1, downvotes: 1, myVote: 0 });
    assert.deepEqual((await vote(alice.token, p.id, 0)).body, { score: -1, upvotes: 0, downvotes: 1, myVote: 0 });
    const me = await app.request('GET', '/api/v1/me', { token: alice.token });
    assert.equal(me.body.karma.post, -1, "bob -1 (after +1), carol cleared; alice's own vote is not karma");
    const seen = await app.request('GET', `/api/v1/posts/${p.id}`, { token: bob.token });
    assert.equal(seen.body.myVote, -1);
    const bad = await vote(bob.token, p.id, 2);
    assert.equal(bad.status, 400);
  });

  test('concurrent votes from many accounts are all counted', async () => {
    const p = await post(alice.token, 'p_art', 'Popular');
    const voters = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(app, `p_voter_${i}`)));
    const before = (await app.request('GET', '/api/v1/me', { token: alice.token })).body.karma.post;
    await Promise.all(
      voters.flatMap((v, i) => [vote(v.token, p.id, i % 3 === 0 ? -1 : 1), vote(v.token, p.id, i % 3 === 0 ? -1 : 1)]),
    );
    const got = await app.request('GET', `/api/v1/posts/${p.id}`);
    assert.deepEqual([got.body.upvotes, got.body.downvotes, got.body.score], [9, 4, 5]);
    const karma = (await app.request('GET', '/api/v1/me', { token: alice.token })).body.karma.post;
    assert.equal(karma - before, 4);
  });

  test("hot, top, new and controversial listings follow api.md's formulas", async () => {
    await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'p_rank', title: 'ranks' } });
    const a = await post(alice.token, 'p_rank', 'old but loved');
    const b = await post(alice.token, 'p_rank', 'divisive');
    const c = await post(alice.token, 'p_rank', 'newest');
    for (const v of [bob, carol]) await vote(v.token, a.id, 1);
    await vote(bob.token, b.id, -1);
    const get = async (sort: string) =>
      (await app.request('GET', `/api/v1/communities/p_rank/posts?sort=${sort}`)).body.items.map(
        (p: { title: string }) => p.title,
      );
    assert.deepEqual(await get('new'), ['newest', 'divisive', 'old but loved']);
    assert.deepEqual(await get('top'), ['old but loved', 'newest', 'divisive']);
    assert.deepEqual(await get('controversial'), ['divisive', 'newest', 'old but loved']);
    const rows = (await app.request('GET', '/api/v1/communities/p_rank/posts?sort=hot')).body.items as {
      id: string;
      upvotes: number;
      downvotes: number;
      createdAt: number;
    }[];
    const expected = [...rows].sort(
      (x, y) => hot(y.upvotes, y.downvotes, y.createdAt) - hot(x.upvotes, x.downvotes, x.createdAt),
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      expected.map((r) => r.id),
    );
    assert.equal(controversy(1, 1), 2);
    assert.ok(c.id);
  });

  test('t windows limit top and controversial to recent posts', async () => {
    await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'p_window', title: 'w' } });
    const old = await post(alice.token, 'p_window', 'last month');
    await vote(bob.token, old.id, 1);
    clock.advance(10 * 86_400_000);
    await post(alice.token, 'p_window', 'today');
    const titles = async (t: string) =>
      (await app.request('GET', `/api/v1/communities/p_window/posts?sort=top&t=${t}`)).body.items.map(
        (p: { title: string }) => p.title,
      );
    assert.deepEqual(await titles('day'), ['today']);
    assert.deepEqual(await titles('month'), ['last month', 'today']);
    assert.deepEqual(await titles('all'), ['last month', 'today']);
    assert.equal((await app.request('GET', '/api/v1/communities/p_window/posts?sort=top&t=decade')).status, 400);
  });

  test("paging new while posts arrive: each post at most once, none of the first page's posts missed", async () => {
    await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'p_pages', title: 'p' } });
    const existing: string[] = [];
    for (let i = 0; i < 10; i++) existing.push((await post(alice.token, 'p_pages', `post ${i}`)).id);
    let n = 0;
    const ids = await walk('/api/v1/communities/p_pages/posts?sort=new', async () => {
      await post(bob.token, 'p_pages', `arrived ${n++}`);
    });
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    assert.deepEqual(
      ids,
      [...existing].reverse(),
      'every post that existed, newest first; later arrivals are not on later pages',
    );
  });

  test('paging hot/top while votes change: unchanged posts exactly once, new posts never, changed ones at most twice', async () => {
    const voters = await Promise.all(Array.from({ length: 4 }, (_, i) => signUp(app, `p_pv_${i}`)));
    await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'p_votes', title: 'p' } });
    for (let i = 0; i < 10; i++) await post(alice.token, 'p_votes', `post ${i}`);
    for (const sort of ['hot', 'top', 'controversial']) {
      const ids = (await app.request('GET', '/api/v1/communities/p_votes/posts?sort=new&limit=100')).body.items.map(
        (p: { id: string }) => p.id,
      ) as string[];
      const changed = new Set<string>();
      let step = 0;
      const seen = await walk(`/api/v1/communities/p_votes/posts?sort=${sort}`, async () => {
        const target = ids[(step * 7) % ids.length]!;
        changed.add(target);
        await vote(voters[step % voters.length]!.token, target, step % 2 ? -1 : 1);
        await post(bob.token, 'p_votes', `during ${sort} ${step++}`);
      });
      const counts = new Map<string, number>();
      for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const id of ids) {
        if (changed.has(id)) assert.ok((counts.get(id) ?? 0) <= 2, `${sort}: a changed post at most twice`);
        else assert.equal(counts.get(id), 1, `${sort}: an unchanged post exactly once`);
      }
      assert.ok(
        seen.every((id) => ids.includes(id)),
        `${sort}: no post created during the walk`,
      );
    }
  });

  test('feed: subscriptions when signed in (few and many), all communities when anonymous', async () => {
    const dave = await signUp(app, 'p_dave');
    await post(bob.token, 'p_tech', 'in tech, for the anonymous feed');
    await post(bob.token, 'p_art', 'in art, for the feed of its subscribers');
    assert.deepEqual((await app.request('GET', '/api/v1/feed', { token: dave.token })).body.items, []);
    await app.request('PUT', '/api/v1/communities/p_art/subscription', { token: dave.token });
    const few = await app.request('GET', '/api/v1/feed?sort=new', { token: dave.token });
    assert.ok(few.body.items.length > 0);
    assert.ok(few.body.items.every((p: { communityName: string }) => p.communityName === 'p_art'));
    for (let i = 0; i < 22; i++) {
      const name = `p_many_${i}`;
      await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name, title: name } });
      await post(alice.token, name, `in ${name}`);
      await app.request('PUT', `/api/v1/communities/${name}/subscription`, { token: dave.token });
    }
    const ids = await walk('/api/v1/feed?sort=hot');
    assert.equal(new Set(ids).size, ids.length);
    const mine = (await app.request('GET', '/api/v1/feed?sort=new&limit=100', { token: dave.token })).body.items as {
      communityName: string;
      title: string;
    }[];
    assert.ok(mine.every((p) => p.communityName === 'p_art' || p.communityName.startsWith('p_many_')));
    assert.equal(mine.filter((p) => p.communityName.startsWith('p_many_')).length, 22);
    const top = (await app.request('GET', '/api/v1/feed?sort=top&limit=5', { token: dave.token })).body.items as {
      score: number;
    }[];
    assert.deepEqual(
      top.map((p) => p.score),
      [...top.map((p) => p.score)].sort((x, y) => y - x),
    );
    const anon = await app.request('GET', '/api/v1/feed?sort=new&limit=100');
    assert.ok(anon.body.items.some((p: { communityName: string }) => p.communityName === 'p_tech'));
  });

  test('pages kept in memory never outlive a change: votes, new posts, deletes, subscriptions', async () => {
    const erin = await signUp(app, 'p_erin');
    for (const name of ['p_kept', 'p_kept2'])
      await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name, title: name } });
    await app.request('PUT', '/api/v1/communities/p_kept/subscription', { token: erin.token });
    const a = await post(alice.token, 'p_kept', 'kept a');
    await post(alice.token, 'p_kept', 'kept b');
    const listing = async () =>
      (await app.request('GET', '/api/v1/communities/p_kept/posts?sort=top')).body.items.map(
        (p: { title: string }) => p.title,
      );
    const feed = async () =>
      (await app.request('GET', '/api/v1/feed?sort=top', { token: erin.token })).body.items as {
        title: string;
        myVote: number;
        score: number;
      }[];
    assert.deepEqual(await listing(), ['kept b', 'kept a']);
    assert.deepEqual(await listing(), ['kept b', 'kept a'], 'the same page again (from memory)');
    assert.deepEqual(
      (await feed()).map((p) => p.title),
      ['kept b', 'kept a'],
    );
    await vote(erin.token, a.id, 1);
    assert.deepEqual(await listing(), ['kept a', 'kept b'], 'a vote reorders at once');
    const afterVote = await feed();
    assert.deepEqual(
      afterVote.map((p) => [p.title, p.score, p.myVote]),
      [
        ['kept a', 2, 1],
        ['kept b', 1, 0],
      ],
      "the viewer's page shows their vote at once",
    );
    const c = await post(bob.token, 'p_kept', 'kept c');
    await vote(erin.token, c.id, 1);
    await vote(carol.token, c.id, 1);
    assert.deepEqual(await listing(), ['kept c', 'kept a', 'kept b'], 'a new post appears at once');
    assert.deepEqual(
      (await feed()).map((p) => p.title),
      ['kept c', 'kept a', 'kept b'],
    );
    await app.request('DELETE', `/api/v1/posts/${c.id}`, { token: bob.token });
    assert.deepEqual(await listing(), ['kept a', 'kept b'], 'a deleted post leaves at once');
    assert.deepEqual(
      (await feed()).map((p) => p.title),
      ['kept a', 'kept b'],
    );
    const d = await post(carol.token, 'p_kept2', 'elsewhere');
    assert.deepEqual(
      (await feed()).map((p) => p.title),
      ['kept a', 'kept b'],
      'posts of other communities stay out',
    );
    await app.request('PUT', '/api/v1/communities/p_kept2/subscription', { token: erin.token });
    assert.ok(
      (await feed()).some((p) => p.title === 'elsewhere'),
      'a subscription changes the feed at once',
    );
    await app.request('DELETE', '/api/v1/communities/p_kept2/subscription', { token: erin.token });
    assert.ok(!(await feed()).some((p) => p.title === 'elsewhere'), 'and so does unsubscribing');
    assert.equal((await vote(erin.token, d.id, 1)).status, 200);
  });

  test("GET /accounts/:username/posts lists a user's posts, newest first", async () => {
    const ids = await walk('/api/v1/accounts/p_carol/posts');
    const all = await app.request('GET', '/api/v1/accounts/p_carol/posts?limit=100');
    assert.deepEqual(
      ids,
      all.body.items.map((p: { id: string }) => p.id),
    );
    assert.ok(all.body.items.every((p: { author: string }) => p.author === 'p_carol'));
    assert.equal((await app.request('GET', '/api/v1/accounts/nobody_here/posts')).status, 404);
  });
});

describe('listings, feeds and search across processes sharing PostgreSQL [postgres]', needs('postgres'), () => {
  const top = async (app: TestApp, token?: string) => {
    const listing = await app.request('GET', '/api/v1/communities/x_procs/posts?sort=top');
    const feed = await app.request('GET', '/api/v1/feed?sort=top', token ? { token } : {});
    const found = await app.request('GET', '/api/v1/search?q=crossproc');
    return [listing, feed, found].map((r) => r.body.items.map((p: { title: string }) => p.title).join(','));
  };

  test('a change made through one process is seen by another within AGORA_CACHE_TTL_MS', () =>
    twoProcesses({ AGORA_CACHE_TTL_MS: '300' }, async (a, b) => {
      const alice = await signUp(a, 'x_alice');
      const bob = await signUp(a, 'x_bob');
      await a.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'x_procs', title: 'x' } });
      await a.request('POST', '/api/v1/communities/x_procs/posts', {
        token: alice.token,
        body: { title: 'crossproc first' },
      });
      const second = (
        await a.request('POST', '/api/v1/communities/x_procs/posts', {
          token: alice.token,
          body: { title: 'crossproc second' },
        })
      ).body;
      assert.deepEqual(
        await top(b, alice.token),
        Array(3).fill('crossproc second,crossproc first'),
        'b now holds copies',
      );
      await a.request('PUT', `/api/v1/posts/${second.id}/vote`, { token: alice.token, body: { value: 0 } });
      await a.request('DELETE', `/api/v1/posts/${second.id}`, { token: alice.token });
      assert.deepEqual(
        await top(a, alice.token),
        ['crossproc first', 'crossproc first', 'crossproc first'],
        'at once in the writing process',
      );
      await new Promise((r) => setTimeout(r, 350));
      assert.deepEqual(
        await top(b, alice.token),
        ['crossproc first', 'crossproc first', 'crossproc first'],
        'within the ttl elsewhere',
      );
      assert.equal((await b.request('GET', `/api/v1/posts/${second.id}`, { token: bob.token })).body.deleted, true);
    }));

  test('with AGORA_CACHE_TTL_MS=0 every process sees a change at once', () =>
    twoProcesses({ AGORA_CACHE_TTL_MS: '0' }, async (a, b) => {
      const alice = await signUp(a, 'x_alice');
      await a.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'x_procs', title: 'x' } });
      await a.request('POST', '/api/v1/communities/x_procs/posts', {
        token: alice.token,
        body: { title: 'crossproc first' },
      });
      assert.deepEqual(await top(b, alice.token), Array(3).fill('crossproc first'));
      await a.request('POST', '/api/v1/communities/x_procs/posts', {
        token: alice.token,
        body: { title: 'crossproc second' },
      });
      assert.deepEqual(await top(b, alice.token), Array(3).fill('crossproc second,crossproc first'));
    }));
});
