import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { signUp, startTestApp, type TestApp } from '../../../test/support/app.js';
import { describeStores } from '../../../test/support/stores.js';

describeStores('communities', (kind) => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  // A fresh app per test, with Gardening made by c_alice: no test depends on what another did.
  beforeEach(async () => {
    app = await startTestApp(kind);
    alice = (await signUp(app, 'c_alice')).token;
    bob = (await signUp(app, 'c_bob')).token;
  });
  afterEach(() => app.close());
  const gardening = () =>
    app.request('POST', '/api/v1/communities', {
      token: alice,
      body: { name: 'Gardening', title: 'Gardens', description: 'Grow things' },
    });

  test('create: 201, the creator is moderator and subscriber; names unique in any case (409 community_exists)', async () => {
    const res = await gardening();
    assert.equal(res.status, 201);
    assert.equal(res.body.name, 'Gardening');
    assert.deepEqual(res.body.moderators, ['c_alice']);
    assert.equal(res.body.subscriberCount, 1);
    assert.equal(res.body.subscribed, true);
    const dup = await app.request('POST', '/api/v1/communities', {
      token: bob,
      body: { name: 'gardening', title: 'Again' },
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'community_exists');
    assert.equal(
      (await app.request('POST', '/api/v1/communities', { body: { name: 'nope_anon', title: 'x' } })).status,
      401,
    );
    const bad = await app.request('POST', '/api/v1/communities', { token: alice, body: { name: 'no', title: 'x' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'name');
  });

  test('GET /communities/:name answers in any letter case; 404 not_found otherwise', async () => {
    await gardening();
    const res = await app.request('GET', '/api/v1/communities/GARDENING');
    assert.equal(res.status, 200);
    assert.equal(res.body.title, 'Gardens');
    assert.equal(res.body.subscribed, undefined, 'anonymous: no subscribed field');
    assert.equal((await app.request('GET', '/api/v1/communities/nowhere')).status, 404);
  });

  test('subscribe and unsubscribe are idempotent and the count stays exact under concurrency', async () => {
    await gardening();
    const users = await Promise.all(Array.from({ length: 8 }, (_, i) => signUp(app, `c_sub_${i}`)));
    const results = await Promise.all(
      users.flatMap((u) =>
        [1, 2, 3].map(() => app.request('PUT', '/api/v1/communities/gardening/subscription', { token: u.token })),
      ),
    );
    assert.ok(results.every((r) => r.status === 204));
    assert.equal((await app.request('GET', '/api/v1/communities/gardening')).body.subscriberCount, 9);
    await Promise.all(
      users
        .slice(0, 3)
        .flatMap((u) =>
          [1, 2].map(() => app.request('DELETE', '/api/v1/communities/gardening/subscription', { token: u.token })),
        ),
    );
    const after = await app.request('GET', '/api/v1/communities/gardening', { token: users[0]!.token });
    assert.equal(after.body.subscriberCount, 6);
    assert.equal(after.body.subscribed, false);
  });

  test('list: popular by subscribers, new by creation, with cursors that reach every community once', async () => {
    await gardening();
    await app.request('PUT', '/api/v1/communities/gardening/subscription', { token: bob });
    for (const name of ['c_one', 'c_two', 'c_three', 'c_four']) {
      assert.equal(
        (await app.request('POST', '/api/v1/communities', { token: bob, body: { name, title: name } })).status,
        201,
      );
    }
    const popular = await app.request('GET', '/api/v1/communities?sort=popular&limit=2');
    assert.equal(popular.body.items[0].name, 'Gardening');
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: { body: { items: { name: string }[]; nextCursor: string | null } } = await app.request(
        'GET',
        `/api/v1/communities?sort=new&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((c) => c.name));
      cursor = page.body.nextCursor;
    }
    assert.deepEqual(seen, ['c_four', 'c_three', 'c_two', 'c_one', 'Gardening']);
    const bad = await app.request('GET', '/api/v1/communities?cursor=garbage');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_cursor');
  });
});
