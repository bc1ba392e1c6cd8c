import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { createManualClock } from '../../platform/clock.js';
import { signUp, signUpAdmin, startTestApp, type TestApp } from '../../../test/support/app.js';
import { describeStores } from '../../../test/support/stores.js';

describeStores('moderation', (kind) => {
  // A fresh app, clock and community per test: no test depends on what another did.
  let clock: ReturnType<typeof createManualClock>;
  let app: TestApp;
  let mod: string;
  let member: string;
  let troll: string;
  let admin: string;
  let postId: string;

  beforeEach(async () => {
    clock = createManualClock(Date.UTC(2026, 6, 1));
    app = await startTestApp(kind, { AGORA_ADMINS: 'm_admin' }, clock);
    [mod, member, troll] = (await Promise.all(['m_mod', 'm_member', 'm_troll'].map((u) => signUp(app, u)))).map(
      (s) => s.token,
    ) as [string, string, string];
    admin = (await signUpAdmin(app, 'm_admin')).token;
    await app.request('POST', '/api/v1/communities', { token: mod, body: { name: 'm_town', title: 'Town' } });
    postId = (
      await app.request('POST', '/api/v1/communities/m_town/posts', {
        token: member,
        body: { title: 'Findable zebra post', body: 'text' },
      })
    ).body.id;
  });
  afterEach(() => app.close());

  test('every moderator action is refused with 403 forbidden for non-moderators', async () => {
    const attempts: [string, string, unknown?][] = [
      ['POST', '/api/v1/communities/m_town/moderators', { username: 'm_member' }],
      ['DELETE', '/api/v1/communities/m_town/moderators/m_mod'],
      ['POST', '/api/v1/communities/m_town/bans', { username: 'm_troll', reason: 'x' }],
      ['GET', '/api/v1/communities/m_town/bans'],
      ['DELETE', '/api/v1/communities/m_town/bans/m_troll'],
      ['GET', '/api/v1/communities/m_town/reports'],
      ['POST', `/api/v1/posts/${postId}/removal`, { reason: 'x' }],
      ['DELETE', `/api/v1/posts/${postId}/removal`],
      ['POST', `/api/v1/posts/${postId}/lock`],
      ['DELETE', `/api/v1/posts/${postId}/lock`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await app.request(method, path, { token: member, body });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.error.code, 'forbidden');
      assert.equal((await app.request(method, path, { body })).status, 401, `${method} ${path} anonymous`);
    }
  });

  test('moderators add moderators; site admins may act everywhere', async () => {
    clock.advance(1); // moderators are listed in the order they were added
    const added = await app.request('POST', '/api/v1/communities/m_town/moderators', {
      token: mod,
      body: { username: 'm_member' },
    });
    assert.equal(added.status, 201);
    assert.deepEqual(added.body.moderators, ['m_mod', 'm_member']);
    assert.equal(
      (await app.request('DELETE', '/api/v1/communities/m_town/moderators/m_member', { token: admin })).status,
      204,
    );
    assert.deepEqual((await app.request('GET', '/api/v1/communities/m_town')).body.moderators, ['m_mod']);
    assert.equal(
      (
        await app.request('POST', '/api/v1/communities/m_town/moderators', {
          token: mod,
          body: { username: 'ghost_user' },
        })
      ).status,
      404,
    );
  });

  test('removal hides a post from listings and search, keeps it visible to moderators, and restore brings it back', async () => {
    assert.equal((await app.request('GET', '/api/v1/search?q=zebra')).body.items.length, 1);
    const removed = await app.request('POST', `/api/v1/posts/${postId}/removal`, {
      token: mod,
      body: { reason: 'off topic' },
    });
    assert.equal(removed.status, 200);
    assert.deepEqual(
      [removed.body.removed, removed.body.removalReason, removed.body.body],
      [true, 'off topic', 'text'],
    );
    assert.equal((await app.request('GET', '/api/v1/communities/m_town/posts?sort=new')).body.items.length, 0);
    assert.equal((await app.request('GET', '/api/v1/search?q=zebra')).body.items.length, 0);
    const publicView = await app.request('GET', `/api/v1/posts/${postId}`, { token: member });
    assert.deepEqual(
      [publicView.body.removed, publicView.body.body, publicView.body.removalReason],
      [true, null, undefined],
    );
    assert.equal((await app.request('DELETE', `/api/v1/posts/${postId}/removal`, { token: mod })).body.removed, false);
    assert.equal((await app.request('GET', '/api/v1/search?q=zebra')).body.items.length, 1);
    assert.equal((await app.request('GET', '/api/v1/communities/m_town/posts?sort=new')).body.items.length, 1);
  });

  test('lock and unlock', async () => {
    assert.equal((await app.request('POST', `/api/v1/posts/${postId}/lock`, { token: mod })).body.locked, true);
    assert.equal((await app.request('GET', `/api/v1/posts/${postId}`)).body.locked, true);
    assert.equal((await app.request('DELETE', `/api/v1/posts/${postId}/lock`, { token: mod })).body.locked, false);
  });

  test('a banned account gets 403 banned on posting and voting until the ban expires or is lifted', async () => {
    const ban = await app.request('POST', '/api/v1/communities/m_town/bans', {
      token: mod,
      body: { username: 'm_troll', reason: 'spam', expiresAt: clock.now() + 3600_000 },
    });
    assert.equal(ban.status, 201);
    assert.equal(ban.body.expiresAt, clock.now() + 3600_000);
    const posting = await app.request('POST', '/api/v1/communities/m_town/posts', {
      token: troll,
      body: { title: 'spam' },
    });
    assert.equal(posting.status, 403);
    assert.equal(posting.body.error.code, 'banned');
    assert.equal(
      (await app.request('PUT', `/api/v1/posts/${postId}/vote`, { token: troll, body: { value: -1 } })).body.error.code,
      'banned',
    );
    assert.deepEqual(
      (await app.request('GET', '/api/v1/communities/m_town/bans', { token: mod })).body.items.map(
        (b: { username: string }) => b.username,
      ),
      ['m_troll'],
    );
    clock.advance(3600_000);
    assert.equal(
      (await app.request('POST', '/api/v1/communities/m_town/posts', { token: troll, body: { title: 'back' } })).status,
      201,
    );
    await app.request('POST', '/api/v1/communities/m_town/bans', {
      token: mod,
      body: { username: 'm_troll', reason: 'again' },
    });
    assert.equal(
      (await app.request('PUT', `/api/v1/posts/${postId}/vote`, { token: troll, body: { value: 1 } })).status,
      403,
    );
    assert.equal((await app.request('DELETE', '/api/v1/communities/m_town/bans/m_troll', { token: mod })).status, 204);
    assert.equal(
      (await app.request('PUT', `/api/v1/posts/${postId}/vote`, { token: troll, body: { value: 1 } })).status,
      200,
    );
    const past = await app.request('POST', '/api/v1/communities/m_town/bans', {
      token: mod,
      body: { username: 'm_troll', reason: 'x', expiresAt: clock.now() - 1 },
    });
    assert.equal(past.status, 400);
  });

  test('reports: once per account (409 already_reported), a queue for moderators, resolved by a removal or by hand', async () => {
    const first = await app.request('POST', `/api/v1/posts/${postId}/reports`, {
      token: troll,
      body: { reason: 'I dislike it' },
    });
    assert.equal(first.status, 201);
    const again = await app.request('POST', `/api/v1/posts/${postId}/reports`, {
      token: troll,
      body: { reason: 'still' },
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'already_reported');
    await app.request('POST', `/api/v1/posts/${postId}/reports`, { token: admin, body: { reason: 'spam' } });
    const queue = await app.request('GET', '/api/v1/communities/m_town/reports', { token: mod });
    assert.deepEqual(
      queue.body.items.map((r: { reporter: string }) => r.reporter),
      ['m_admin', 'm_troll'],
    );
    assert.equal(
      (await app.request('POST', `/api/v1/reports/${first.body.id}/resolution`, { token: member })).status,
      403,
    );
    assert.equal(
      (await app.request('POST', `/api/v1/reports/${first.body.id}/resolution`, { token: mod })).status,
      204,
    );
    assert.equal((await app.request('GET', '/api/v1/communities/m_town/reports', { token: mod })).body.items.length, 1);
    await app.request('POST', `/api/v1/posts/${postId}/removal`, { token: mod, body: { reason: 'reported' } });
    assert.equal((await app.request('GET', '/api/v1/communities/m_town/reports', { token: mod })).body.items.length, 0);
    assert.equal(
      (await app.request('POST', `/api/v1/posts/${postId}/reports`, { token: member, body: { reason: 'x' } })).status,
      404,
      'a removed post cannot be reported',
    );
  });

  test('the modlog is public and records every action, newest first', async () => {
    const as = (token: string, method: string, path: string, body?: unknown) => {
      clock.advance(1);
      return app.request(method, path, { token, body });
    };
    await as(mod, 'POST', '/api/v1/communities/m_town/moderators', { username: 'm_member' });
    await as(mod, 'DELETE', '/api/v1/communities/m_town/moderators/m_member');
    await as(mod, 'POST', `/api/v1/posts/${postId}/lock`);
    await as(mod, 'DELETE', `/api/v1/posts/${postId}/lock`);
    await as(mod, 'POST', '/api/v1/communities/m_town/bans', { username: 'm_troll', reason: 'spam' });
    await as(mod, 'DELETE', '/api/v1/communities/m_town/bans/m_troll');
    const report = await as(member, 'POST', `/api/v1/posts/${postId}/reports`, { reason: 'spam' });
    await as(mod, 'POST', `/api/v1/reports/${report.body.id}/resolution`);
    await as(mod, 'POST', `/api/v1/posts/${postId}/removal`, { reason: 'off topic' });
    await as(mod, 'DELETE', `/api/v1/posts/${postId}/removal`);
    await as(admin, 'POST', `/api/v1/posts/${postId}/removal`, { reason: 'again' });
    const log = await app.request('GET', '/api/v1/communities/m_town/modlog?limit=100');
    assert.equal(log.status, 200);
    assert.deepEqual(
      log.body.items.map((e: { action: string; moderator: string }) => `${e.action} by ${e.moderator}`),
      [
        'remove_post by m_admin',
        'restore_post by m_mod',
        'remove_post by m_mod',
        'resolve_report by m_mod',
        'unban by m_mod',
        'ban by m_mod',
        'unlock_post by m_mod',
        'lock_post by m_mod',
        'remove_moderator by m_mod',
        'add_moderator by m_mod',
      ],
      'every action, newest first, and nothing else',
    );
  });
});
