import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { createManualClock } from '../src/platform/clock.js';
import { oneLine } from '../src/modules/notifications/index.js';
import {
  signUp,
  signUpAdmin,
  startTestApp,
  startTestAppOn,
  TEST_METRICS_TOKEN,
  type Answer,
  type TestApp,
} from './support/app.js';
import { describeStores, freshDatabase, STORE_KINDS } from './support/stores.js';

/**
 * What an attacker tries from outside, on both stores: crafted cursors,
 * names that would be admins, money a column cannot hold, sign-in guessing,
 * moderators removing their seniors, banned accounts acting, stock held with
 * throwaway accounts, endless reply chains, parameter sweeps that would grow
 * memory, requests that fail before the limiter. Each answer is a clear 4xx
 * with an error code, the same on both stores; never a 5xx.
 */

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Cursors a client can make: the old unsigned shapes with wrong types and huge numbers, and garbage. */
const CRAFTED = [
  b64([1.5]),
  b64([1.5, 'x']),
  b64(['01JBZ8Q4V7W0000000000000AA']),
  b64([9e99, 'x', 'y', 1.7e308]),
  b64([-1]),
  b64(['best', 2 ** 64, 'x', 'y']),
  `${b64([1])}.AAAAAAAAAAAAAAAA`,
  'garbage',
  '.',
  '%00',
  '\u{1F600}',
];

function assertCode(res: Answer, status: number, code: string, what: string) {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.code, code, what);
}

describeStores('hostile clients', (kind) => {
  const clock = createManualClock(Date.now());
  let app: TestApp;
  type Account = { token: string; id: string };
  let founder: Account;
  let second: Account;
  let third: Account;
  let troll: Account;
  let admin: string;
  let postId: string;
  let commentId: string;

  before(async () => {
    app = await startTestApp(
      kind,
      { AGORA_ADMINS: 'siteboss,rootboss', AGORA_PAYMENT_WEBHOOK_SECRET: 'whsec_test_0123456789' },
      clock,
    );
    [founder, second, third, troll] = (await Promise.all(
      ['h_founder', 'h_second', 'h_third', 'h_troll'].map((u) => signUp(app, u)),
    )) as [Account, Account, Account, Account];
    admin = (await signUpAdmin(app, 'siteboss')).token;
    const created = await app.request('POST', '/api/v1/communities', {
      token: founder.token,
      body: { name: 'h_town', title: 'Town' },
    });
    assert.equal(created.status, 201);
    for (let i = 0; i < 3; i++) {
      const post = await app.request('POST', '/api/v1/communities/h_town/posts', {
        token: troll.token,
        body: { title: `post ${i}`, body: 'searchable words' },
      });
      assert.equal(post.status, 201);
      postId = post.body.id;
    }
    for (let i = 0; i < 3; i++) {
      const comment = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
        token: troll.token,
        body: { body: `searchable comment ${i} u/h_founder` },
      });
      assert.equal(comment.status, 201);
      commentId = comment.body.id;
    }
  });
  after(() => app.close());

  test('crafted and foreign cursors on every list route: 400 invalid_cursor, never a 5xx', async () => {
    const lists = [
      '/api/v1/communities?sort=popular',
      '/api/v1/communities?sort=new',
      '/api/v1/communities/h_town/posts?sort=hot',
      '/api/v1/communities/h_town/posts?sort=new',
      '/api/v1/communities/h_town/posts?sort=top&t=hour',
      '/api/v1/communities/h_town/posts?sort=controversial&t=all',
      '/api/v1/feed?sort=top&t=day',
      '/api/v1/accounts/h_troll/posts',
      '/api/v1/accounts/h_troll/comments',
      `/api/v1/posts/${postId}/comments`,
      `/api/v1/comments/${commentId}`,
      '/api/v1/search?q=searchable&type=posts',
      '/api/v1/search?q=searchable&type=comments',
      '/api/v1/communities/h_town/reports',
      '/api/v1/communities/h_town/modlog',
      '/api/v1/drops?status=live',
      '/api/v1/me/orders',
      '/api/v1/me/inbox',
    ];
    // A cursor each list really issued (limit=1 so that every list has a next page), to try on the others.
    const issued = new Map<string, string>();
    for (const path of lists) {
      const res = await app.request('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1`, { token: founder.token });
      assert.ok(res.status < 500, `${path}: ${res.status}`);
      const cursor = res.body?.nextCursor ?? res.body?.more?.[0]?.cursor ?? res.body?.items?.[0]?.more?.[0]?.cursor;
      if (typeof cursor === 'string') issued.set(path, cursor);
    }
    assert.ok(issued.size >= 6, `lists issued cursors (${[...issued.keys()].join(', ')})`);
    for (const path of lists) {
      const own = issued.get(path);
      const foreign = [...issued.entries()].filter(([other]) => other !== path).map(([, cursor]) => cursor);
      const tampered = own ? [`${own.slice(0, 4)}${own[4] === 'A' ? 'B' : 'A'}${own.slice(5)}`] : [];
      for (const cursor of [...CRAFTED, ...foreign, ...tampered]) {
        const res = await app.request(
          'GET',
          `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`,
          { token: founder.token },
        );
        // Some lists answer a cursor they cannot use before decoding it (an empty feed, a moderators-only list): never a 5xx.
        assert.ok(res.status < 500, `${path} cursor ${cursor}: ${res.status} ${JSON.stringify(res.body)}`);
        if (res.status === 400)
          assert.ok(
            ['invalid_cursor', 'invalid_request'].includes(res.body.error.code),
            `${path}: ${res.body.error.code}`,
          );
        else
          assert.ok(
            res.status === 403 || (res.status === 200 && path.startsWith('/api/v1/feed')),
            `${path} cursor ${cursor}: ${res.status}`,
          );
      }
      if (own)
        assert.equal(
          (
            await app.request('GET', `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(own)}`, {
              token: founder.token,
            })
          ).status,
          200,
          path,
        );
    }
    // The two reported as 500s before:
    assertCode(await app.request('GET', `/api/v1/search?q=test&cursor=WzEuNV0`), 400, 'invalid_cursor', 'search [1.5]');
    assertCode(
      await app.request('GET', `/api/v1/communities?sort=popular&cursor=WzEuNSwieCJd`),
      400,
      'invalid_cursor',
      'popular [1.5,"x"]',
    );
  });

  test('an admin name cannot be claimed by registering it; admin rights come from `agora admin create`', async () => {
    // rootboss is in AGORA_ADMINS and has no account yet.
    const claim = await app.request('POST', '/api/v1/accounts', {
      body: { username: 'RootBoss', password: 'correct horse' },
    });
    assertCode(claim, 409, 'username_taken', 'reserved name');
    assertCode(
      await app.request('POST', '/api/v1/sessions', { body: { username: 'rootboss', password: 'correct horse' } }),
      401,
      'invalid_credentials',
      'no such account',
    );
    assert.equal((await app.request('GET', '/api/v1/me', { token: admin })).body.isAdmin, true);
    assert.equal((await app.request('GET', '/api/v1/me', { token: troll.token })).body.isAdmin, false);
  });

  test('money: a price the API accepts is stored and charged the same on both stores; an amount past 2^53 is refused per order', async () => {
    const drop = await app.request('POST', '/api/v1/drops', {
      token: founder.token,
      body: {
        communityName: 'h_town',
        name: 'Gold bar',
        stock: 5,
        priceCents: 9_000_000_000,
        currency: 'USD',
        startsAt: clock.now(),
        perCustomerLimit: 1_000_000,
      },
    });
    assert.equal(drop.status, 201, JSON.stringify(drop.body));
    assert.equal(drop.body.priceCents, 9_000_000_000);
    const ordered = await app.request('POST', `/api/v1/drops/${drop.body.id}/orders`, {
      token: second.token,
      body: { quantity: 2 },
      headers: { 'idempotency-key': 'gold-1' },
    });
    assert.equal(ordered.status, 201, JSON.stringify(ordered.body));
    assert.equal(ordered.body.amountCents, 18_000_000_000);
    const huge = await app.request('POST', '/api/v1/drops', {
      token: founder.token,
      body: {
        communityName: 'h_town',
        name: 'Island',
        stock: 1_000_000_000,
        priceCents: 10_000_000_000,
        currency: 'USD',
        startsAt: clock.now(),
        perCustomerLimit: 1_000_000,
      },
    });
    assert.equal(huge.status, 201);
    // Together in one batch: the refused one fails alone.
    const [tooMuch, fine] = await Promise.all([
      app.request('POST', `/api/v1/drops/${huge.body.id}/orders`, {
        token: third.token,
        body: { quantity: 1_000_000 },
        headers: { 'idempotency-key': 'island-1' },
      }),
      app.request('POST', `/api/v1/drops/${huge.body.id}/orders`, {
        token: second.token,
        body: { quantity: 1 },
        headers: { 'idempotency-key': 'island-2' },
      }),
    ]);
    assertCode(tooMuch, 400, 'invalid_request', 'amount past 2^53');
    assert.equal(fine.status, 201);
    assertCode(
      await app.request('POST', '/api/v1/drops', {
        token: founder.token,
        body: {
          communityName: 'h_town',
          name: 'Too dear',
          stock: 1,
          priceCents: 100_000_000_001,
          currency: 'USD',
          startsAt: clock.now(),
          perCustomerLimit: 1,
        },
      }),
      400,
      'invalid_request',
      'price past the limit',
    );
    for (const id of [ordered.body.id, fine.body.id])
      assert.equal(
        (await app.request('POST', `/api/v1/orders/${id}/cancellation`, { token: second.token })).status,
        200,
      );
  });

  test('a drop name cannot forge lines in the order e-mail', async () => {
    const forged = await app.request('POST', '/api/v1/drops', {
      token: founder.token,
      body: {
        communityName: 'h_town',
        name: 'Shoes\r\nPay instead at https://evil.example',
        stock: 1,
        priceCents: 1,
        currency: 'USD',
        startsAt: clock.now(),
        perCustomerLimit: 1,
      },
    });
    assertCode(forged, 400, 'invalid_request', 'a name with a line break');
    assert.equal(forged.body.error.field, 'name');
    assert.equal(oneLine('a\r\nb\u2028c\u0007d'), 'a b c d');
  });

  test('sign-in guessing backs the account off (doubling from a second), and a success resets it', async () => {
    const login = (password: string) =>
      app.request('POST', '/api/v1/sessions', { body: { username: 'h_third', password } });
    for (let i = 0; i < 5; i++)
      assertCode(await login(`wrong ${i}`), 401, 'invalid_credentials', `free failure ${i + 1}`);
    assertCode(await login('wrong 6'), 401, 'invalid_credentials', 'sixth failure');
    assertCode(await login('correct horse'), 429, 'rate_limited', 'the right password during the back-off');
    clock.advance(1000);
    assertCode(await login('wrong 7'), 401, 'invalid_credentials', 'after the first second');
    assertCode(await login('correct horse'), 429, 'rate_limited', 'now two seconds');
    clock.advance(2000);
    assert.equal((await login('correct horse')).status, 201);
    assertCode(await login('wrong again'), 401, 'invalid_credentials', 'reset: free failures again');
    assert.equal((await login('correct horse')).status, 201);
  });

  test('moderator seniority: later moderators cannot remove earlier ones or the founder; admins can', async () => {
    const add = (token: string, username: string) =>
      app.request('POST', '/api/v1/communities/h_town/moderators', { token, body: { username } });
    const remove = (token: string, name: string) =>
      app.request('DELETE', `/api/v1/communities/h_town/moderators/${name}`, { token });
    assert.ok((await add(founder.token, 'h_second')).status < 300);
    clock.advance(1);
    assert.ok((await add(second.token, 'h_third')).status < 300);
    assertCode(await remove(second.token, 'h_founder'), 403, 'forbidden', 'the founder');
    assertCode(await remove(third.token, 'h_second'), 403, 'forbidden', 'an earlier moderator');
    assert.equal((await remove(second.token, 'h_third')).status, 204, 'a later one');
    assert.ok((await add(second.token, 'h_third')).status < 300);
    assert.equal((await remove(third.token, 'h_third')).status, 204, 'stepping down');
    assert.equal((await remove(admin, 'h_second')).status, 204, 'an admin');
    const moderators = (await app.request('GET', '/api/v1/communities/h_town')).body.moderators;
    assert.deepEqual(moderators, ['h_founder']);
  });

  test('a banned account cannot edit, report or buy in that community', async () => {
    const [owner, member] = (await Promise.all(['hb_owner', 'hb_member'].map((u) => signUp(app, u)))) as [
      Account,
      Account,
    ];
    assert.equal(
      (
        await app.request('POST', '/api/v1/communities', {
          token: owner.token,
          body: { name: 'hb_town', title: 'Bans' },
        })
      ).status,
      201,
    );
    const post = await app.request('POST', '/api/v1/communities/hb_town/posts', {
      token: member.token,
      body: { title: 'mine', body: 'before' },
    });
    const comment = await app.request('POST', `/api/v1/posts/${post.body.id}/comments`, {
      token: member.token,
      body: { body: 'before' },
    });
    const other = await app.request('POST', '/api/v1/communities/hb_town/posts', {
      token: owner.token,
      body: { title: 'theirs', body: 'x' },
    });
    const otherComment = await app.request('POST', `/api/v1/posts/${other.body.id}/comments`, {
      token: owner.token,
      body: { body: 'x' },
    });
    const drop = await app.request('POST', '/api/v1/drops', {
      token: owner.token,
      body: {
        communityName: 'hb_town',
        name: 'Caps',
        stock: 5,
        priceCents: 100,
        currency: 'USD',
        startsAt: clock.now(),
        perCustomerLimit: 2,
      },
    });
    assert.equal(
      (
        await app.request('POST', '/api/v1/communities/hb_town/bans', {
          token: owner.token,
          body: { username: 'hb_member', reason: 'spam' },
        })
      ).status,
      201,
    );
    assertCode(
      await app.request('PATCH', `/api/v1/posts/${post.body.id}`, { token: member.token, body: { body: 'after' } }),
      403,
      'banned',
      'post edit',
    );
    assertCode(
      await app.request('PATCH', `/api/v1/comments/${comment.body.id}`, {
        token: member.token,
        body: { body: 'after' },
      }),
      403,
      'banned',
      'comment edit',
    );
    assertCode(
      await app.request('POST', `/api/v1/posts/${other.body.id}/reports`, {
        token: member.token,
        body: { reason: 'spam' },
      }),
      403,
      'banned',
      'post report',
    );
    assertCode(
      await app.request('POST', `/api/v1/comments/${otherComment.body.id}/reports`, {
        token: member.token,
        body: { reason: 'spam' },
      }),
      403,
      'banned',
      'comment report',
    );
    assertCode(
      await app.request('POST', `/api/v1/drops/${drop.body.id}/orders`, {
        token: member.token,
        body: { quantity: 1 },
        headers: { 'idempotency-key': 'banned-1' },
      }),
      403,
      'banned',
      'order',
    );
    assert.equal((await app.request('GET', `/api/v1/posts/${post.body.id}`)).body.body, 'before');
  });

  test('unpaid holds are capped per account over every drop (409 too_many_pending); paying or cancelling frees a place', async () => {
    const [owner, buyer] = (await Promise.all(['hh_owner', 'hh_hoarder'].map((u) => signUp(app, u)))) as [
      Account,
      Account,
    ];
    assert.equal(
      (
        await app.request('POST', '/api/v1/communities', {
          token: owner.token,
          body: { name: 'hh_shop', title: 'Holds' },
        })
      ).status,
      201,
    );
    const ids: string[] = [];
    for (let d = 0; d < 3; d++) {
      const drop = await app.request('POST', '/api/v1/drops', {
        token: owner.token,
        body: {
          communityName: 'hh_shop',
          name: `Hoard ${d}`,
          stock: 100,
          priceCents: 100,
          currency: 'USD',
          startsAt: clock.now(),
          perCustomerLimit: 100,
        },
      });
      for (let i = 0; i < 2; i++) {
        const res = await app.request('POST', `/api/v1/drops/${drop.body.id}/orders`, {
          token: buyer.token,
          body: { quantity: 1 },
          headers: { 'idempotency-key': `hoard-${d}-${i}` },
        });
        if (ids.length < 5) {
          assert.equal(res.status, 201, JSON.stringify(res.body));
          ids.push(res.body.id);
        } else {
          assertCode(res, 409, 'too_many_pending', 'the sixth unpaid order');
          assert.equal(
            (await app.request('POST', `/api/v1/orders/${ids[0]}/cancellation`, { token: buyer.token })).status,
            200,
          );
          const again = await app.request('POST', `/api/v1/drops/${drop.body.id}/orders`, {
            token: buyer.token,
            body: { quantity: 1 },
            headers: { 'idempotency-key': `hoard-${d}-${i}-again` },
          });
          assert.equal(again.status, 201);
        }
      }
    }
  });

  test('replies nest at most 100 levels: the 101st is refused, and the thread still reads', async () => {
    let parentId: string | undefined;
    for (let depth = 0; depth < 100; depth++) {
      const res = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
        token: founder.token,
        body: { body: `level ${depth}`, ...(parentId ? { parentId } : {}) },
      });
      assert.equal(res.status, 201, `depth ${depth}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.depth, depth);
      parentId = res.body.id;
    }
    const deeper = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token: founder.token,
      body: { body: 'too deep', parentId },
    });
    assertCode(deeper, 400, 'invalid_request', 'depth 100');
    assert.equal(deeper.body.error.field, 'parentId');
    assert.equal((await app.request('GET', `/api/v1/comments/${parentId}?depth=50`)).status, 200);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}/comments?depth=50&limit=500`)).status, 200);
  });

  test('operations routes: /healthz open, /metrics only with its token, /readyz writes nothing', async () => {
    assert.equal((await app.request('GET', '/healthz')).status, 200);
    assertCode(await app.request('GET', '/metrics'), 401, 'unauthenticated', 'no token');
    assertCode(
      await app.request('GET', '/metrics', { token: `${TEST_METRICS_TOKEN}x` }),
      401,
      'unauthenticated',
      'a wrong token',
    );
    const writes = async () =>
      Number(/^agora_store_write_duration_seconds_count (\d+)/m.exec(await app.metrics())?.[1]);
    // The outbox's own writes settle first (events of the tests before).
    for (let i = 0; i < 100 && !/^agora_outbox_backlog 0$/m.test(await app.metrics()); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const before = await writes();
    for (let i = 0; i < 5; i++) assert.equal((await app.request('GET', '/readyz')).status, 200);
    assert.equal(await writes(), before, 'no write transaction for readiness');
    // The failed-events gauge counts over its own index, not the whole outbox.
    const store = app.agora.store;
    if (store.dialect === 'sqlite') {
      const plan = await store.q.all<{ detail: string }>(
        'EXPLAIN QUERY PLAN SELECT COUNT(*) AS n FROM outbox WHERE failed_at IS NOT NULL',
      );
      assert.match(plan.map((p) => p.detail).join(' '), /USING (COVERING )?INDEX outbox_failed/);
    } else {
      const index = await store.q.get<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'outbox_failed'",
      );
      assert.match(index?.indexdef ?? '', /WHERE \(failed_at IS NOT NULL\)/);
    }
    const text = await app.metrics();
    for (const name of [
      'agora_event_loop_delay_max_seconds',
      'agora_memory_copies_used_bytes',
      'agora_memory_budget_bytes',
    ])
      assert.match(text, new RegExp(`^${name} `, 'm'));
  });

  test('oversized, malformed and badly encoded input: 4xx with a code, never a 5xx', async () => {
    const cases: [string, string, { raw?: string; headers?: Record<string, string>; token?: string }][] = [
      [
        'POST',
        '/api/v1/accounts',
        {
          raw: '{"username":"a","password":' + '"x"'.repeat(10) + '}',
          headers: { 'content-type': 'application/json' },
        },
      ],
      ['POST', '/api/v1/accounts', { raw: 'x'.repeat(300_000), headers: { 'content-type': 'application/json' } }],
      [
        'POST',
        `/api/v1/posts/${postId}/comments`,
        { raw: '{"body":"\\ud800"}', headers: { 'content-type': 'application/json' }, token: founder.token },
      ],
      [
        'POST',
        `/api/v1/posts/${postId}/comments`,
        { raw: '{"body":"a\\u0000b"}', headers: { 'content-type': 'application/json' }, token: founder.token },
      ],
      [
        'POST',
        `/api/v1/posts/${postId}/comments`,
        {
          raw: JSON.stringify({ body: 'x', parentId: 'y'.repeat(10_000) }),
          headers: { 'content-type': 'application/json' },
          token: founder.token,
        },
      ],
      [
        'POST',
        '/api/v1/communities',
        { raw: '['.repeat(5000), headers: { 'content-type': 'application/json' }, token: founder.token },
      ],
      ['GET', `/api/v1/search?q=${'%F0%9F'.repeat(50)}`, {}],
      ['GET', `/api/v1/search?q=${'a'.repeat(5000)}`, {}],
      ['GET', `/api/v1/communities/h_town/posts?limit=${'9'.repeat(400)}`, {}],
      ['GET', `/api/v1/posts/${postId}/comments?depth=1e309`, {}],
    ];
    for (const [method, path, options] of cases) {
      const res = await app.request(method, path, options);
      assert.ok(res.status < 500, `${method} ${path.slice(0, 60)}: ${res.status}`);
      if (method === 'POST')
        assert.ok(res.status >= 400, `${method} ${path.slice(0, 60)}: ${res.status} ${JSON.stringify(res.body)}`);
      if (res.status >= 400) assert.match(res.body.error.code, /^[a-z_]+$/);
    }
  });
});

describeStores('hostile clients: memory', (kind) => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp(kind, { AGORA_MEMORY_BUDGET_MB: '1' });
  });
  after(() => app.close());

  test('sweeps of sizes, sorts, depths, windows and search terms keep every copy within the byte budget', async () => {
    const { token } = await signUp(app, 'mem_owner');
    await app.request('POST', '/api/v1/communities', { token, body: { name: 'mem_town', title: 'Memory' } });
    let postId = '';
    for (let i = 0; i < 60; i++)
      postId = (
        await app.request('POST', '/api/v1/communities/mem_town/posts', {
          token,
          body: { title: `post ${i}`, body: 'y'.repeat(2000) },
        })
      ).body.id;
    let parentId: string | undefined;
    for (let i = 0; i < 60; i++) {
      const res = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
        token,
        body: { body: `${'z'.repeat(3000)} ${i}`, ...(i % 3 && parentId ? { parentId } : {}) },
      });
      parentId = res.body.id;
    }
    const budget = 1024 * 1024;
    const used = async () => {
      const text = await app.metrics();
      return { used: Number(/^agora_memory_copies_used_bytes (\d+)/m.exec(text)?.[1]), text };
    };
    for (let limit = 1; limit <= 100; limit += 3) {
      for (const sort of ['hot', 'new', 'top', 'controversial']) {
        assert.equal(
          (await app.request('GET', `/api/v1/communities/mem_town/posts?sort=${sort}&t=all&limit=${limit}`)).status,
          200,
        );
      }
      assert.equal(
        (await app.request('GET', `/api/v1/posts/${postId}/comments?limit=${limit}&depth=${1 + (limit % 50)}`)).status,
        200,
      );
      assert.equal((await app.request('GET', `/api/v1/search?q=word${limit}+post&limit=${limit}`)).status, 200);
    }
    for (let i = 0; i < 200; i++) assert.equal((await app.request('GET', `/api/v1/search?q=term${i}`)).status, 200);
    // The pages the site links to are kept.
    for (const sort of ['hot', 'new', 'top', 'controversial'])
      await app.request('GET', `/api/v1/communities/mem_town/posts?sort=${sort}`);
    await app.request('GET', `/api/v1/posts/${postId}/comments`);
    // Walking every default page of every sort: more than the budget holds.
    for (const sort of ['hot', 'new', 'top', 'controversial']) {
      for (let cursor: string | null = '', pages = 0; cursor !== null; pages++) {
        const page: Answer = await app.request(
          'GET',
          `/api/v1/communities/mem_town/posts?sort=${sort}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        assert.equal(page.status, 200);
        cursor = page.body.nextCursor;
        assert.ok(pages < 5);
      }
    }
    const swept = await used();
    assert.ok(swept.used > 0 && swept.used <= budget, `copies use ${swept.used} bytes of ${budget}`);
    assert.ok(Number(/^agora_memory_evictions_total (\d+)/m.exec(swept.text)?.[1]) > 0, 'the budget evicted');
    // What was read last is kept, and answers the same.
    const first = await app.request('GET', '/api/v1/communities/mem_town/posts?sort=new');
    const again = await app.request('GET', '/api/v1/communities/mem_town/posts?sort=new');
    assert.deepEqual(again.body, first.body);
    const last = await used();
    assert.ok(last.used <= budget);
    assert.match(last.text, /^agora_memory_copies_bytes\{owner="pages"\} [1-9]/m);
  });
});

describe('hostile clients: limits and proxies', () => {
  test("AGORA_TRUST_PROXY takes the proxies' addresses, not `on`", () => {
    assert.throws(() => loadConfig({ AGORA_TRUST_PROXY: 'on' }), /AGORA_TRUST_PROXY/);
    assert.deepEqual(loadConfig({ AGORA_TRUST_PROXY: '127.0.0.1, ::1,10.0.0.0/8' }).trustProxy, [
      '127.0.0.1',
      '::1',
      '10.0.0.0/8',
    ]);
    assert.deepEqual(loadConfig({}).trustProxy, []);
  });

  for (const kind of STORE_KINDS) {
    test(`[${kind}] requests failing auth or validation count against their address; X-Forwarded-For only from a trusted proxy`, async () => {
      const env = { AGORA_RATE_LIMIT: 'on', AGORA_RATE_LIMIT_PER_MINUTE: '5' };
      const trusted = await startTestApp(kind, { ...env, AGORA_TRUST_PROXY: '127.0.0.1' });
      const untrusted = await startTestApp(kind, { ...env, AGORA_TRUST_PROXY: '10.9.9.9' });
      try {
        const fail = (app: TestApp, ip: string) =>
          app.request('GET', '/api/v1/me', { token: 'not-a-token', headers: { 'x-forwarded-for': ip } });
        const bad = (app: TestApp, ip: string) =>
          app.request('GET', '/api/v1/communities?limit=abc', { headers: { 'x-forwarded-for': ip } });
        for (const app of [trusted, untrusted]) {
          for (let i = 0; i < 3; i++) assert.equal((await fail(app, '198.51.100.1')).status, 401);
          for (let i = 0; i < 2; i++) assert.equal((await bad(app, '198.51.100.1')).status, 400);
          assertCode(await fail(app, '198.51.100.1'), 429, 'rate_limited', 'the sixth failure');
          assertCode(
            await app.request('GET', '/api/v1/communities', { headers: { 'x-forwarded-for': '198.51.100.1' } }),
            429,
            'rate_limited',
            'then anything',
          );
        }
        // Behind the trusted proxy another client is another address; without one, all are the proxy's.
        assert.equal((await fail(trusted, '198.51.100.2')).status, 401);
        assert.equal((await fail(untrusted, '198.51.100.2')).status, 429);
      } finally {
        await trusted.close();
        await untrusted.close();
      }
    });

    test(`[${kind}] new accounts place orders under their address's limit, so throwaway accounts do not multiply it`, async () => {
      const app = await startTestApp(kind, { AGORA_RATE_LIMIT: 'on', AGORA_RATE_LIMIT_ORDERS_PER_MINUTE: '3' });
      try {
        const seller = await signUp(app, 'rl_seller');
        await app.request('POST', '/api/v1/communities', {
          token: seller.token,
          body: { name: 'rl_shop', title: 'Shop' },
        });
        const drop = await app.request('POST', '/api/v1/drops', {
          token: seller.token,
          body: {
            communityName: 'rl_shop',
            name: 'Cap',
            stock: 100,
            priceCents: 100,
            currency: 'USD',
            startsAt: 0,
            perCustomerLimit: 10,
          },
        });
        const buyers = await Promise.all(['rl_a', 'rl_b'].map((u) => signUp(app, u)));
        const order = (token: string, key: string) =>
          app.request('POST', `/api/v1/drops/${drop.body.id}/orders`, {
            token,
            body: { quantity: 1 },
            headers: { 'idempotency-key': key },
          });
        assert.equal((await order(buyers[0]!.token, 'a1')).status, 201);
        assert.equal((await order(buyers[0]!.token, 'a2')).status, 201);
        assert.equal((await order(buyers[1]!.token, 'b1')).status, 201);
        assertCode(
          await order(buyers[1]!.token, 'b2'),
          429,
          'rate_limited',
          'a second new account on the same address',
        );
      } finally {
        await app.close();
      }
    });

    test(`[${kind}] a password hash made with a lower scrypt cost is raised at the next sign-in`, async () => {
      const db = await freshDatabase(kind);
      const keep = { url: db.url, drop: async () => {} };
      const old = await startTestAppOn(keep, { AGORA_SCRYPT_COST: '16384' });
      await signUp(old, 'rehash_me');
      await old.close();
      const now = await startTestAppOn(db, { AGORA_SCRYPT_COST: '32768' });
      try {
        const hash = async () =>
          (await now.agora.store.q.get<{ password_hash: string }>(
            'SELECT password_hash FROM accounts WHERE username_key = ?',
            ['rehash_me'],
          ))!.password_hash;
        assert.match(await hash(), /^scrypt\$16384\$/);
        assert.equal(
          (
            await now.request('POST', '/api/v1/sessions', {
              body: { username: 'rehash_me', password: 'correct horse' },
            })
          ).status,
          201,
        );
        assert.match(await hash(), /^scrypt\$32768\$/);
        assert.equal(
          (
            await now.request('POST', '/api/v1/sessions', {
              body: { username: 'rehash_me', password: 'correct horse' },
            })
          ).status,
          201,
          'the new hash verifies',
        );
        assert.equal(loadConfig({}).scryptCost, 131072, "new hashes get OWASP's minimum by default");
      } finally {
        await now.close();
      }
    });
  }
});
