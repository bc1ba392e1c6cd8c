import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createManualClock } from '../../platform/clock.js';
import { signUp, startTestApp, twoProcesses, type TestApp } from '../../../test/support/app.js';
import { describeStores } from '../../../test/support/stores.js';
import type { Comment } from './presenter.js';

interface TreeComment extends Comment {
  replies: TreeComment[];
}
interface Stub {
  parentId: string | null;
  count: number;
  cursor: string;
}

/** api.md's sorts, written out independently of the server's code. */
const Z = 1.281551565545;
function wilsonRef(up: number, down: number): number {
  const n = up + down;
  if (n === 0) return 0;
  const p = up / n;
  return (p + (Z * Z) / (2 * n) - Z * Math.sqrt((p * (1 - p) + (Z * Z) / (4 * n)) / n)) / (1 + (Z * Z) / n);
}
const controversyRef = (up: number, down: number) =>
  up > 0 && down > 0 ? (up + down) ** (Math.min(up, down) / Math.max(up, down)) : 0;
type Flat = { id: string; parentId: string | null; up: number; down: number; createdAt: number };
function before_(sort: string, a: Flat, b: Flat): number {
  const tie = b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1);
  if (sort === 'best') return wilsonRef(b.up, b.down) - wilsonRef(a.up, a.down) || tie;
  if (sort === 'top') return b.up - b.down - (a.up - a.down) || tie;
  if (sort === 'controversial') return controversyRef(b.up, b.down) - controversyRef(a.up, a.down) || tie;
  if (sort === 'old') return a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
  return tie;
}
/** The comments a tree read must keep: repeatedly the best one whose parent is already kept (a naive scan). */
function referenceSelection(all: Flat[], sort: string, limit: number): string[] {
  const kept = new Set<string>();
  const out: string[] = [];
  while (out.length < limit) {
    const frontier = all.filter((c) => !kept.has(c.id) && (c.parentId === null || kept.has(c.parentId)));
    if (frontier.length === 0) break;
    frontier.sort((a, b) => before_(sort, a, b));
    const best = frontier[0] as Flat;
    kept.add(best.id);
    out.push(best.id);
  }
  return out;
}
function flatten(items: TreeComment[], out: TreeComment[] = []): TreeComment[] {
  for (const c of items) {
    out.push(c);
    flatten(c.replies, out);
  }
  return out;
}

describeStores('comments: threads, sorts, stubs, votes, inbox', (kind) => {
  const clock = createManualClock(Date.UTC(2026, 6, 1));
  let app: TestApp;
  let users: { token: string; id: string; name: string }[];
  let alice: { token: string; id: string; name: string };
  let bob: { token: string; id: string; name: string };

  const newPost = async (title: string) => {
    const res = await app.request('POST', '/api/v1/communities/c_main/posts', { token: alice.token, body: { title } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const comment = async (token: string, postId: string, body: string, parentId?: string) => {
    clock.advance(1000);
    const res = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token,
      body: { body, ...(parentId ? { parentId } : {}) },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as TreeComment;
  };
  const vote = (token: string, id: string, value: number) =>
    app.request('PUT', `/api/v1/comments/${id}/vote`, { token, body: { value } });
  /** Gives alice's comment `up` upvotes and `down` downvotes in all (her own upvote included). */
  const votes = async (id: string, up: number, down: number) => {
    for (let i = 1; i < up; i++) assert.equal((await vote((users[i] as { token: string }).token, id, 1)).status, 200);
    for (let i = 0; i < down; i++)
      assert.equal((await vote((users[up + i] as { token: string }).token, id, -1)).status, 200);
  };
  const tree = async (postId: string, query = '') => {
    const res = await app.request('GET', `/api/v1/posts/${postId}/comments${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { items: TreeComment[]; more: Stub[] };
  };
  /** Reads a whole thread by following every stub; every comment must come exactly once. */
  const walk = async (postId: string, query: string, token?: string) => {
    const seen = new Map<string, TreeComment>();
    const add = (items: TreeComment[]) => {
      for (const c of flatten(items)) {
        assert.ok(!seen.has(c.id), `comment ${c.id} came twice`);
        seen.set(c.id, c);
      }
    };
    const first = await app.request('GET', `/api/v1/posts/${postId}/comments?${query}`, token ? { token } : {});
    add(first.body.items);
    const stubs: Stub[] = [...first.body.more];
    let expected = flatten(first.body.items).length + first.body.more.reduce((n: number, s: Stub) => n + s.count, 0);
    while (stubs.length > 0) {
      const stub = stubs.shift() as Stub;
      const path = stub.parentId === null ? `/api/v1/posts/${postId}/comments` : `/api/v1/comments/${stub.parentId}`;
      const res = await app.request('GET', `${path}?${query}&cursor=${stub.cursor}`, token ? { token } : {});
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const items: TreeComment[] = stub.parentId === null ? res.body.items : res.body.replies;
      const reached = flatten(items).length + (res.body.more as Stub[]).reduce((n, s) => n + s.count, 0);
      assert.equal(reached, stub.count, "a stub's count is what following it reaches");
      add(items);
      stubs.push(...res.body.more);
    }
    assert.equal(seen.size, expected);
    expected = seen.size;
    return seen;
  };

  before(async () => {
    app = await startTestApp(kind, {}, clock);
    users = [];
    for (let i = 0; i < 9; i++) users.push({ ...(await signUp(app, `cm_user${i}`)), name: `cm_user${i}` });
    [alice, bob] = users as [typeof alice, typeof bob];
    await app.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'c_main', title: 'Main' } });
  });
  after(() => app.close());

  test('create: top level and replies with their depth; the post counts them; bad input is a clear 4xx', async () => {
    const postId = await newPost('create');
    const top = await comment(bob.token, postId, 'top level');
    assert.deepEqual(
      [
        top.parentId,
        top.author,
        top.body,
        top.depth,
        top.score,
        top.upvotes,
        top.downvotes,
        top.childCount,
        top.deleted,
        top.removed,
        top.myVote,
      ],
      [null, bob.name, 'top level', 0, 1, 1, 0, 0, false, false, 1],
    );
    const reply = await comment(alice.token, postId, 'a reply', top.id);
    const deeper = await comment(bob.token, postId, 'deeper', reply.id);
    assert.deepEqual([reply.parentId, reply.depth, deeper.depth], [top.id, 1, 2]);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}`)).body.commentCount, 3);
    const read = await tree(postId);
    assert.equal(read.items[0]?.childCount, 1);
    assert.equal(read.items[0]?.replies[0]?.replies[0]?.body, 'deeper');

    const other = await newPost('other');
    const cross = await app.request('POST', `/api/v1/posts/${other}/comments`, {
      token: bob.token,
      body: { body: 'x', parentId: top.id },
    });
    assert.equal(cross.status, 404, 'a parent from another post is refused');
    assert.equal(cross.body.error.code, 'not_found');
    const unknown = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token: bob.token,
      body: { body: 'x', parentId: 'no_such_comment' },
    });
    assert.deepEqual(
      [unknown.status, unknown.body.error.code],
      [404, 'not_found'],
      'a parent that does not exist is refused',
    );
    for (const [body, status] of [
      [{ body: '' }, 400],
      [{ body: 'x'.repeat(10_001) }, 400],
      [{}, 400],
      [{ body: 'a\u0000b' }, 400],
    ] as const) {
      assert.equal(
        (await app.request('POST', `/api/v1/posts/${postId}/comments`, { token: bob.token, body })).status,
        status,
      );
    }
    assert.equal((await app.request('POST', `/api/v1/posts/${postId}/comments`, { body: { body: 'x' } })).status, 401);
    assert.equal(
      (await app.request('POST', '/api/v1/posts/nope/comments', { token: bob.token, body: { body: 'x' } })).status,
      404,
    );
    assert.equal((await app.request('GET', '/api/v1/posts/nope/comments')).status, 404);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}/comments?limit=501`)).status, 400);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}/comments?sort=hot`)).status, 400);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}/comments?cursor=garbage`)).status, 400);
  });

  test('a locked post and a banned user are refused', async () => {
    const postId = await newPost('locked');
    await comment(bob.token, postId, 'before the lock');
    assert.equal((await app.request('POST', `/api/v1/posts/${postId}/lock`, { token: alice.token })).status, 200);
    const locked = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token: bob.token,
      body: { body: 'after' },
    });
    assert.deepEqual([locked.status, locked.body.error.code], [403, 'post_locked']);
    const kept = await app.request('GET', `/api/v1/posts/${postId}/comments`);
    assert.deepEqual(
      kept.body.items.map((c: TreeComment) => c.body),
      ['before the lock'],
      'a refused comment leaves nothing behind',
    );
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}`)).body.commentCount, 1);
    await app.request('DELETE', `/api/v1/posts/${postId}/lock`, { token: alice.token });

    const carol = users[2] as { token: string; name: string };
    const target = await comment(bob.token, postId, 'vote on me');
    assert.equal(
      (
        await app.request('POST', '/api/v1/communities/c_main/bans', {
          token: alice.token,
          body: { username: carol.name, reason: 'spam' },
        })
      ).status,
      201,
    );
    const banned = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token: carol.token,
      body: { body: 'hi' },
    });
    assert.deepEqual([banned.status, banned.body.error.code], [403, 'banned']);
    const bannedVote = await vote(carol.token, target.id, 1);
    assert.deepEqual([bannedVote.status, bannedVote.body.error.code], [403, 'banned']);
    await app.request('DELETE', `/api/v1/communities/c_main/bans/${carol.name}`, { token: alice.token });
    assert.equal(
      (
        await app.request('POST', `/api/v1/posts/${postId}/comments`, {
          token: carol.token,
          body: { body: 'hi again' },
        })
      ).status,
      201,
    );
    // A ban counts until it expires.
    const ban = { username: carol.name, reason: 'cool off', expiresAt: clock.now() + 60_000 };
    assert.equal(
      (await app.request('POST', '/api/v1/communities/c_main/bans', { token: alice.token, body: ban })).status,
      201,
    );
    const inForce = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token: carol.token,
      body: { body: 'in force' },
    });
    assert.deepEqual([inForce.status, inForce.body.error.code], [403, 'banned']);
    clock.advance(60_000);
    assert.equal(
      (await app.request('POST', `/api/v1/posts/${postId}/comments`, { token: carol.token, body: { body: 'expired' } }))
        .status,
      201,
    );
    await app.request('DELETE', `/api/v1/communities/c_main/bans/${carol.name}`, { token: alice.token });
  });

  test("sorts: best is Wilson's lower bound, controversial (up+down)^(min/max), top, new and old", async () => {
    const postId = await newPost('sorts');
    const make = async (name: string, up: number, down: number) => {
      const c = await comment(alice.token, postId, name);
      await votes(c.id, up, down);
      return { name, id: c.id, up, down, createdAt: c.createdAt };
    };
    // x beats y on best but y beats x on top; b and e tie on top and are split by time.
    const made = [
      await make('x', 2, 0),
      await make('y', 6, 3),
      await make('b', 4, 0),
      await make('c', 3, 3),
      await make('d', 1, 0),
      await make('e', 5, 1),
    ];
    const expect = (sort: string) =>
      made
        .map((m) => ({ id: m.id, parentId: null, up: m.up, down: m.down, createdAt: m.createdAt, name: m.name }))
        .sort((a, b) => before_(sort, a, b))
        .map((m) => m.name);
    const names = new Map(made.map((m) => [m.id, m.name]));
    for (const sort of ['best', 'top', 'new', 'old', 'controversial']) {
      const got = (await tree(postId, `?sort=${sort}`)).items.map((c) => names.get(c.id));
      assert.deepEqual(got, expect(sort), sort);
    }
    assert.deepEqual(
      expect('best').slice(0, 2),
      ['b', 'e'],
      'the independent reference itself: b (4/0) and e (5/1) lead on best',
    );
    assert.ok(
      expect('best').indexOf('x') < expect('best').indexOf('y') &&
        expect('top').indexOf('y') < expect('top').indexOf('x'),
    );
    assert.equal(expect('controversial')[0], 'c');
    // The default sort is best; votes reorder at once.
    await vote((users[5] as { token: string }).token, made[0]?.id as string, 1);
    await vote((users[6] as { token: string }).token, made[0]?.id as string, 1);
    await vote((users[7] as { token: string }).token, made[0]?.id as string, 1);
    (made[0] as { up: number }).up = 5;
    assert.deepEqual(
      (await tree(postId)).items.map((c) => names.get(c.id)),
      expect('best'),
    );
  });

  test('the kept comments are the best across the whole tree; limit and depth cut-offs become stubs with exact counts', async () => {
    const postId = await newPost('selection');
    const flat: Flat[] = [];
    const parents: (string | null)[] = [null];
    // 60 comments: ~30 % top level, the rest replies to a random earlier one; deterministic votes.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 60; i++) {
      const parentId = i < 5 || rnd() < 0.3 ? null : (parents[1 + Math.floor(rnd() * (parents.length - 1))] as string);
      const c = await comment(alice.token, postId, `n${i}`, parentId ?? undefined);
      const up = 1 + Math.floor(rnd() * 5);
      const down = Math.floor(rnd() * 3);
      await votes(c.id, up, down);
      flat.push({ id: c.id, parentId, up, down, createdAt: c.createdAt });
      parents.push(c.id);
    }
    for (const sort of ['best', 'top', 'new', 'old', 'controversial']) {
      for (const limit of [1, 7, 25]) {
        const read = await tree(postId, `?sort=${sort}&limit=${limit}`);
        const kept = flatten(read.items);
        assert.deepEqual(
          new Set(kept.map((c) => c.id)),
          new Set(referenceSelection(flat, sort, limit)),
          `${sort} limit ${limit}`,
        );
        // Each level in the sort's order.
        const check = (items: TreeComment[]) => {
          const ordered = [...items].sort((a, b) =>
            before_(sort, flat.find((f) => f.id === a.id) as Flat, flat.find((f) => f.id === b.id) as Flat),
          );
          assert.deepEqual(
            items.map((c) => c.id),
            ordered.map((c) => c.id),
          );
          items.forEach((c) => check(c.replies));
        };
        check(read.items);
        assert.equal(
          kept.length + read.more.reduce((n, s) => n + s.count, 0),
          60,
          'shown plus stub counts is the whole thread',
        );
      }
      const all = await walk(postId, `sort=${sort}&limit=5`);
      assert.equal(all.size, 60);
    }

    // Depth: with depth=2 nothing deeper than level 2 is shown; a stub sits at each cut with the subtree's size.
    const shallow = await tree(postId, '?limit=500&depth=2');
    const descendants = (id: string): number =>
      flat.filter((f) => f.parentId === id).reduce((n, f) => n + 1 + descendants(f.id), 0);
    for (const c of flatten(shallow.items)) assert.ok(c.depth <= 1);
    const cut = flatten(shallow.items).filter((c) => c.depth === 1 && c.childCount > 0);
    assert.ok(cut.length > 0, 'the generated tree goes deeper than two levels');
    for (const c of cut) {
      assert.equal(c.replies.length, 0);
      const stub = shallow.more.find((s) => s.parentId === c.id);
      assert.equal(stub?.count, descendants(c.id));
      const more = await app.request('GET', `/api/v1/comments/${c.id}?depth=2&cursor=${stub?.cursor}`);
      assert.equal(more.body.id, c.id, 'continue-this-thread: the comment with its subtree');
      assert.deepEqual(
        new Set(more.body.replies.map((r: TreeComment) => r.id)),
        new Set(flat.filter((f) => f.parentId === c.id).map((f) => f.id)),
      );
    }
    assert.equal((await walk(postId, 'limit=500&depth=2')).size, 60);
    assert.equal((await walk(postId, 'limit=3&depth=1')).size, 60);
  });

  test('135 siblings: pages reach every one exactly once, the stub carrying the exact remaining count', async () => {
    const postId = await newPost('siblings');
    const parent = await comment(alice.token, postId, 'parent');
    const ids = new Set<string>();
    for (let i = 0; i < 135; i++) ids.add((await comment(bob.token, postId, `sibling ${i}`, parent.id)).id);
    for (let i = 0; i < 40; i++) ids.add((await comment(bob.token, postId, `top ${i}`)).id);
    const first = await tree(postId, '?sort=new&limit=50');
    assert.equal(flatten(first.items).length, 50);
    assert.equal(
      first.more.reduce((n, s) => n + s.count, 0),
      176 - 50,
      'the stubs carry exactly what is left',
    );
    const seen = await walk(postId, 'sort=new&limit=50');
    assert.equal(seen.size, 176);
    for (const id of ids) assert.ok(seen.has(id));
    // Paging the 135 replies alone, 20 at a time: all of them, once, in order.
    const paged: string[] = [];
    let res = await app.request('GET', `/api/v1/comments/${parent.id}?sort=old&limit=20&depth=2`);
    for (;;) {
      paged.push(...res.body.replies.map((r: TreeComment) => r.id));
      const stub = (res.body.more as Stub[]).find((s) => s.parentId === parent.id);
      if (!stub) break;
      assert.equal(stub.count, 135 - paged.length);
      res = await app.request('GET', `/api/v1/comments/${parent.id}?limit=20&depth=2&cursor=${stub.cursor}`);
    }
    assert.equal(paged.length, 135);
    assert.equal(new Set(paged).size, 135);
    assert.deepEqual(paged, [...paged].sort(), 'old: oldest first (ids are time-ordered)');
  });

  test('edit and soft delete: a deleted comment keeps its replies; only the author may', async () => {
    const postId = await newPost('delete');
    const parent = await comment(bob.token, postId, 'will be deleted');
    const child = await comment(alice.token, postId, 'survives', parent.id);
    assert.equal(
      (await app.request('PATCH', `/api/v1/comments/${parent.id}`, { token: alice.token, body: { body: 'hijack' } }))
        .status,
      403,
    );
    const edited = await app.request('PATCH', `/api/v1/comments/${parent.id}`, {
      token: bob.token,
      body: { body: 'edited ✓' },
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.body, 'edited ✓');
    assert.equal(edited.body.editedAt, clock.now());
    assert.equal((await tree(postId)).items[0]?.body, 'edited ✓');
    assert.equal((await app.request('DELETE', `/api/v1/comments/${parent.id}`, { token: alice.token })).status, 403);
    assert.equal((await app.request('DELETE', `/api/v1/comments/${parent.id}`, { token: bob.token })).status, 204);
    assert.equal(
      (await app.request('DELETE', `/api/v1/comments/${parent.id}`, { token: bob.token })).status,
      204,
      'idempotent',
    );
    const read = await tree(postId);
    const node = read.items[0] as TreeComment;
    assert.deepEqual([node.id, node.deleted, node.author, node.body], [parent.id, true, null, null]);
    assert.deepEqual(
      node.replies.map((r) => [r.id, r.body]),
      [[child.id, 'survives']],
    );
    assert.equal(
      (await app.request('GET', `/api/v1/posts/${postId}`)).body.commentCount,
      1,
      'the deleted one is not counted',
    );
    assert.equal((await vote(alice.token, parent.id, 1)).status, 404);
    assert.equal(
      (await app.request('PATCH', `/api/v1/comments/${parent.id}`, { token: bob.token, body: { body: 'back' } }))
        .status,
      404,
    );
    const reply = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token: alice.token,
      body: { body: 'to a deleted one', parentId: parent.id },
    });
    assert.equal(reply.status, 404);
  });

  test('votes: idempotent, 0 clears, karma from others only, myVote in the tree', async () => {
    const postId = await newPost('votes');
    const c = await comment(bob.token, postId, 'vote me');
    const karma = async () => (await app.request('GET', `/api/v1/accounts/${bob.name}`)).body.karma.comment as number;
    const k0 = await karma();
    const up = await vote(alice.token, c.id, 1);
    assert.deepEqual(up.body, { score: 2, upvotes: 2, downvotes: 0, myVote: 1 });
    assert.deepEqual((await vote(alice.token, c.id, 1)).body, { score: 2, upvotes: 2, downvotes: 0, myVote: 1 });
    assert.deepEqual((await vote(alice.token, c.id, -1)).body, { score: 0, upvotes: 1, downvotes: 1, myVote: -1 });
    assert.equal(await karma(), k0 - 1);
    assert.deepEqual((await vote(alice.token, c.id, 0)).body, { score: 1, upvotes: 1, downvotes: 0, myVote: 0 });
    assert.equal(await karma(), k0);
    await vote(bob.token, c.id, 0);
    assert.equal(await karma(), k0, "the author's own vote earns nothing");
    await vote(alice.token, c.id, 1);
    const mine = await app.request('GET', `/api/v1/posts/${postId}/comments`, { token: alice.token });
    assert.equal(mine.body.items[0].myVote, 1);
    assert.equal(
      (await app.request('GET', `/api/v1/posts/${postId}/comments`, { token: bob.token })).body.items[0].myVote,
      0,
    );
    assert.equal((await tree(postId)).items[0]?.myVote, undefined, 'anonymous readers get no myVote');
    assert.equal((await vote(alice.token, 'nope', 1)).status, 404);
    assert.equal(
      (await app.request('PUT', `/api/v1/comments/${c.id}/vote`, { token: alice.token, body: { value: 2 } })).status,
      400,
    );
  });

  test('replies to a comment and votes on it at the same time all succeed, counted exactly', async () => {
    const postId = await newPost('replies and votes together');
    const parent = await comment(alice.token, postId, 'busy parent');
    const others = users.slice(1);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        others.flatMap((u, i) => [
          app.request('POST', `/api/v1/posts/${postId}/comments`, {
            token: u.token,
            body: { body: `reply ${round}`, parentId: parent.id },
          }),
          vote(u.token, parent.id, (i + round) % 2 === 0 ? 1 : -1),
        ]),
      );
      for (const res of answers)
        assert.ok(res.status === 200 || res.status === 201, `${res.status} ${JSON.stringify(res.body)}`);
    }
    const [read] = (await tree(postId)).items;
    const last = others.map((_, i) => ((i + 2) % 2 === 0 ? 1 : -1));
    assert.deepEqual(
      [read?.childCount, read?.replies.length, read?.upvotes, read?.downvotes],
      [
        3 * others.length,
        3 * others.length,
        1 + last.filter((v) => v === 1).length,
        last.filter((v) => v === -1).length,
      ],
    );
  });

  test("a user's comments, newest first; comment bodies in search", async () => {
    const postId = await newPost('profile');
    const carol = users[3] as { token: string; name: string };
    const a = await comment(carol.token, postId, 'first zebra-crossing remark');
    const b = await comment(carol.token, postId, 'second remark');
    const gone = await comment(carol.token, postId, 'third remark, deleted');
    await app.request('DELETE', `/api/v1/comments/${gone.id}`, { token: carol.token });
    const list = await app.request('GET', `/api/v1/accounts/${carol.name}/comments?limit=1`);
    assert.deepEqual(
      list.body.items.map((c: TreeComment) => c.id),
      [b.id],
    );
    const next = await app.request(
      'GET',
      `/api/v1/accounts/${carol.name}/comments?limit=1&cursor=${list.body.nextCursor}`,
    );
    assert.deepEqual(
      next.body.items.map((c: TreeComment) => c.id),
      [a.id],
    );
    const found = await app.request('GET', '/api/v1/search?q=zebra&type=comments');
    assert.deepEqual(
      found.body.items.map((c: TreeComment) => c.id),
      [a.id],
    );
    assert.equal((await app.request('GET', '/api/v1/search?q=deleted&type=comments')).body.items.length, 0);
  });

  test('moderators remove and restore comments; reports', async () => {
    const postId = await newPost('moderation');
    const c = await comment(bob.token, postId, 'rude words');
    assert.equal(
      (await app.request('POST', `/api/v1/comments/${c.id}/removal`, { token: bob.token, body: { reason: 'x' } }))
        .status,
      403,
    );
    assert.equal(
      (
        await app.request('POST', `/api/v1/comments/${c.id}/reports`, {
          token: (users[4] as { token: string }).token,
          body: { reason: 'rude' },
        })
      ).status,
      201,
    );
    const removed = await app.request('POST', `/api/v1/comments/${c.id}/removal`, {
      token: alice.token,
      body: { reason: 'rule 1' },
    });
    assert.deepEqual([removed.status, removed.body.removed, removed.body.body], [200, true, null]);
    const node = (await tree(postId)).items[0] as TreeComment;
    assert.deepEqual([node.removed, node.body, node.author], [true, null, bob.name]);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}`)).body.commentCount, 0);
    const log = await app.request('GET', '/api/v1/communities/c_main/modlog');
    assert.equal(log.body.items[0].action, 'remove_comment');
    const restored = await app.request('DELETE', `/api/v1/comments/${c.id}/removal`, { token: alice.token });
    assert.deepEqual([restored.body.removed, restored.body.body], [false, 'rude words']);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}`)).body.commentCount, 1);
  });

  test('inbox: replies and u/name mentions arrive through the outbox; mark read', async () => {
    const postId = await newPost('inbox');
    const dave = users[5] as { token: string; name: string };
    const erin = users[6] as { token: string; id: string; name: string };
    const parent = await comment(dave.token, postId, 'dave writes');
    const reply = await comment(
      erin.token,
      postId,
      `erin answers, and tells u/${dave.name} and u/${users[7]?.name}`,
      parent.id,
    );
    await comment(dave.token, postId, 'dave answers himself', parent.id);
    const inboxOf = async (token: string, query = '') => {
      for (let i = 0; i < 100; i++) {
        const res = await app.request('GET', `/api/v1/me/inbox${query}`, { token });
        if (res.body.items.length > 0) return res.body;
        await new Promise((r) => setTimeout(r, 20));
      }
      return (await app.request('GET', `/api/v1/me/inbox${query}`, { token })).body;
    };
    const daves = await inboxOf(dave.token);
    assert.deepEqual(
      daves.items.map((i: { type: string; comment: { id: string } }) => [i.type, i.comment.id]),
      [['reply', reply.id]],
      'one item: a reply that also mentions',
    );
    assert.equal(daves.unreadCount, 1);
    const mentioned = await inboxOf((users[7] as { token: string }).token);
    assert.deepEqual(
      mentioned.items.map((i: { type: string }) => i.type),
      ['mention'],
    );
    assert.equal(
      (await app.request('POST', '/api/v1/me/inbox/read', { token: dave.token, body: { ids: [daves.items[0].id] } }))
        .status,
      204,
    );
    const after_ = (await app.request('GET', '/api/v1/me/inbox', { token: dave.token })).body;
    assert.deepEqual([after_.unreadCount, after_.items[0].read], [0, true]);
    assert.equal(
      (await app.request('GET', '/api/v1/me/inbox?unread=true', { token: dave.token })).body.items.length,
      0,
    );
    assert.equal((await app.request('GET', '/api/v1/me/inbox', { token: erin.token })).body.items.length, 0);
    assert.equal((await app.request('GET', '/api/v1/me/inbox')).status, 401);
    assert.equal((await app.request('POST', '/api/v1/me/inbox/read', { token: erin.token, body: {} })).status, 204);

    // An event recorded before events named the parent (it carried the parent's author) is still delivered.
    // (a top-level comment: only the old event's parentAuthorId can make this item)
    const old = await comment(users[8]?.token as string, postId, 'recorded the old way');
    await app.agora.store.write((tx) =>
      app.agora.outbox.record(tx, 'comment.created', {
        commentId: old.id,
        postId,
        authorId: users[8]?.id as string,
        parentAuthorId: erin.id,
        mentions: [],
      }),
    );
    const erins = await inboxOf(erin.token);
    assert.deepEqual(
      erins.items.map((i: { type: string; comment: { id: string } }) => [i.type, i.comment.id]),
      [['reply', old.id]],
    );
  });

  if (kind === 'postgres') {
    test('a comment written through one process is in the tree another process reads at once', () =>
      twoProcesses({}, async (a, b) => {
        const alice = await signUp(a, 'y_alice');
        await a.request('POST', '/api/v1/communities', { token: alice.token, body: { name: 'y_procs', title: 'y' } });
        const postId = (
          await a.request('POST', '/api/v1/communities/y_procs/posts', { token: alice.token, body: { title: 'p' } })
        ).body.id;
        const first = (
          await a.request('POST', `/api/v1/posts/${postId}/comments`, { token: alice.token, body: { body: 'one' } })
        ).body;
        assert.deepEqual(
          (await b.request('GET', `/api/v1/posts/${postId}/comments`)).body.items.map((c: TreeComment) => c.body),
          ['one'],
        );
        await a.request('POST', `/api/v1/posts/${postId}/comments`, {
          token: alice.token,
          body: { body: 'two', parentId: first.id },
        });
        await a.request('PATCH', `/api/v1/comments/${first.id}`, { token: alice.token, body: { body: 'one, edited' } });
        const read = (await b.request('GET', `/api/v1/posts/${postId}/comments`)).body.items;
        assert.deepEqual([read[0].body, read[0].replies[0].body], ['one, edited', 'two']);
      }));
  }
});
