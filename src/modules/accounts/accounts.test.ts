import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createManualClock } from '../../platform/clock.js';
import { signUp, signUpAdmin, startTestApp, twoProcesses, type TestApp } from '../../../test/support/app.js';
import { describeStores, needs } from '../../../test/support/stores.js';

describeStores('accounts and sessions', (kind) => {
  // A fresh app and clock per test: no test depends on what another did.
  let clock: ReturnType<typeof createManualClock>;
  let app: TestApp;
  beforeEach(async () => {
    clock = createManualClock(Date.UTC(2026, 10, 22));
    app = await startTestApp(kind, { AGORA_ADMINS: 'Root_Admin', AGORA_SESSION_TTL_DAYS: '1' }, clock);
  });
  afterEach(() => app.close());
  const alice = async () => {
    const res = await app.request('POST', '/api/v1/accounts', {
      body: { username: 'Alice_1', password: 'password123', email: 'a@example.com' },
    });
    assert.equal(res.status, 201);
  };

  test('POST /accounts creates an account: 201 {id, username, createdAt}', async () => {
    const res = await app.request('POST', '/api/v1/accounts', {
      body: { username: 'Alice_1', password: 'password123', email: 'a@example.com' },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ['createdAt', 'id', 'username']);
    assert.equal(res.body.username, 'Alice_1');
    assert.equal(res.body.createdAt, clock.now());
    assert.match(res.body.id, /^[0-9A-Z]{26}$/);
  });

  test('usernames are unique in any letter case: 409 username_taken', async () => {
    await alice();
    const res = await app.request('POST', '/api/v1/accounts', {
      body: { username: 'aLICE_1', password: 'password123' },
    });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'username_taken');
  });

  test('concurrent sign-ups of one name: exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        app.request('POST', '/api/v1/accounts', {
          body: { username: i % 2 ? 'race_me' : 'RACE_ME', password: 'password123' },
        }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
  });

  test('bad sign-up input is 400 invalid_request naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ username: 'ab', password: 'password123' }, 'username'],
      [{ username: 'a'.repeat(21), password: 'password123' }, 'username'],
      [{ username: 'bad name', password: 'password123' }, 'username'],
      [{ username: 'ok_name', password: 'short' }, 'password'],
      [{ username: 'ok_name', password: 'x'.repeat(129) }, 'password'],
      [{ username: 'ok_name', password: 'password123', email: 'not-an-email' }, 'email'],
      [{ password: 'password123' }, 'username'],
      [{ username: 'ok_name' }, 'password'],
    ];
    for (const [body, field] of cases) {
      const res = await app.request('POST', '/api/v1/accounts', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
  });

  test('POST /sessions returns a token for the right password, in any letter case of the name', async () => {
    await alice();
    const res = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'alice_1', password: 'password123' },
    });
    assert.equal(res.status, 201);
    assert.match(res.body.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(res.body.account.username, 'Alice_1');
    assert.deepEqual(res.body.account.karma, { post: 0, comment: 0 });
    assert.equal(res.body.account.email, undefined);
  });

  test('unknown user and wrong password get the same 401 invalid_credentials', async () => {
    await alice();
    const wrong = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'Alice_1', password: 'password124' },
    });
    const unknown = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'nobody_here', password: 'password123' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    assert.equal(wrong.body.error.code, 'invalid_credentials');
  });

  test('GET /me needs a valid token and shows own email and karma', async () => {
    await alice();
    const none = await app.request('GET', '/api/v1/me');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthenticated');
    for (const header of ['Bearer nope', 'Basic abc', `Bearer ${'A'.repeat(43)}`, 'Bearer']) {
      const bad = await app.request('GET', '/api/v1/me', { headers: { authorization: header } });
      assert.equal(bad.status, 401, header);
      assert.equal(bad.body.error.code, 'unauthenticated');
    }
    const login = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'Alice_1', password: 'password123' },
    });
    const me = await app.request('GET', '/api/v1/me', { token: login.body.token });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, {
      id: login.body.account.id,
      username: 'Alice_1',
      createdAt: login.body.account.createdAt,
      karma: { post: 0, comment: 0 },
      email: 'a@example.com',
      isAdmin: false,
    });
  });

  test('GET /accounts/:username is public and never exposes email or hashes; 404 not_found otherwise', async () => {
    await alice();
    const res = await app.request('GET', '/api/v1/accounts/ALICE_1');
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['createdAt', 'id', 'karma', 'username']);
    assert.ok(!JSON.stringify(res.body).includes('scrypt'));
    const missing = await app.request('GET', '/api/v1/accounts/ghost_user');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');
    const bad = await app.request('GET', '/api/v1/accounts/no!');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_request');
  });

  test('DELETE /sessions/current ends that session only', async () => {
    const { token } = await signUp(app, 'bob_logout');
    const other = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'bob_logout', password: 'correct horse' },
    });
    const del = await app.request('DELETE', '/api/v1/sessions/current', { token });
    assert.equal(del.status, 204);
    assert.equal((await app.request('GET', '/api/v1/me', { token })).status, 401);
    assert.equal((await app.request('DELETE', '/api/v1/sessions/current', { token })).status, 401);
    assert.equal((await app.request('GET', '/api/v1/me', { token: other.body.token })).status, 200);
  });

  test('DELETE /me/sessions ends every session of the account', async () => {
    const { token } = await signUp(app, 'carol_all');
    const other = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'carol_all', password: 'correct horse' },
    });
    assert.equal((await app.request('DELETE', '/api/v1/me/sessions', { token })).status, 204);
    assert.equal((await app.request('GET', '/api/v1/me', { token })).status, 401);
    assert.equal((await app.request('GET', '/api/v1/me', { token: other.body.token })).status, 401);
  });

  test('a session expires after AGORA_SESSION_TTL_DAYS', async () => {
    const { token } = await signUp(app, 'dave_ttl');
    clock.advance(24 * 3600_000 - 1);
    assert.equal((await app.request('GET', '/api/v1/me', { token })).status, 200);
    clock.advance(1);
    assert.equal((await app.request('GET', '/api/v1/me', { token })).status, 401);
  });

  test('names in AGORA_ADMINS are reserved (any letter case); admin rights belong to accounts made by `agora admin create`', async () => {
    const claimed = await app.request('POST', '/api/v1/accounts', {
      body: { username: 'root_admin', password: 'correct horse' },
    });
    assert.equal(claimed.status, 409);
    assert.equal(claimed.body.error.code, 'username_taken');
    assert.equal(
      (await app.request('POST', '/api/v1/sessions', { body: { username: 'Root_Admin', password: 'correct horse' } }))
        .status,
      401,
    );
    const { token } = await signUpAdmin(app, 'Root_Admin');
    assert.equal((await app.request('GET', '/api/v1/me', { token })).body.isAdmin, true);
    const plain = await signUp(app, 'not_root');
    assert.equal((await app.request('GET', '/api/v1/me', { token: plain.token })).body.isAdmin, false);
    await app.agora.accounts.setAdmin('not_root', true);
    assert.equal(
      (await app.request('GET', '/api/v1/me', { token: plain.token })).body.isAdmin,
      true,
      'granted: the session sees it at once',
    );
    await app.agora.accounts.setAdmin('NOT_ROOT', false);
    assert.equal(
      (await app.request('GET', '/api/v1/me', { token: plain.token })).body.isAdmin,
      false,
      'revoked: at once',
    );
  });

  test('an account creation records an outbox event in the same transaction', async () => {
    await alice();
    const rows = await app.agora.store.q.all<{ payload: string }>(
      "SELECT payload FROM outbox WHERE topic = 'account.created'",
    );
    assert.ok(rows.some((r) => JSON.parse(r.payload).username === 'Alice_1'));
  });
});

describeStores('rate limits', (kind) => {
  let app: TestApp;
  // A fresh app (and so fresh limits) per test.
  beforeEach(async () => {
    app = await startTestApp(kind, {
      AGORA_RATE_LIMIT: 'on',
      AGORA_RATE_LIMIT_PER_MINUTE: '1000',
      AGORA_RATE_LIMIT_ACCOUNT_PER_MINUTE: '5',
      AGORA_RATE_LIMIT_SIGNUPS_PER_HOUR: '2',
      AGORA_RATE_LIMIT_LOGINS_PER_MINUTE: '3',
    });
  });
  afterEach(() => app.close());
  const signedIn = async () => {
    await app.request('POST', '/api/v1/accounts', { body: { username: 'limited_0', password: 'password123' } });
    const session = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'limited_0', password: 'password123' },
    });
    assert.equal(session.status, 201);
    return session.body.token as string;
  };

  test('sign-ups per IP are limited: 429 rate_limited with Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await app.request('POST', '/api/v1/accounts', {
        body: { username: `limited_${i}`, password: 'password123' },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(res.body.error.code, 'rate_limited');
        assert.ok(Number(res.headers.get('retry-after')) > 0);
      }
    }
    assert.deepEqual(statuses, [201, 201, 429]);
  });

  test('sign-in attempts per IP are limited', async () => {
    await signedIn(); // the first of the three attempts
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await app.request('POST', '/api/v1/sessions', { body: { username: 'limited_0', password: 'wrong-password' } }))
          .status,
      );
    assert.deepEqual(statuses, [401, 401, 429]);
  });

  test('signed-in requests are limited per account, apart from the IP limit', async () => {
    const token = await signedIn();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await app.request('GET', '/api/v1/me', { token })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const anonymous = await app.request('GET', '/api/v1/accounts/limited_0');
    assert.equal(anonymous.status, 200);
  });

  test('health probes are never rate limited', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await app.request('GET', '/healthz')).status, 200);
  });
});

describe('sessions across processes sharing PostgreSQL [postgres]', needs('postgres'), () => {
  test('a token revoked by one process stops working in another within AGORA_CACHE_TTL_MS', () =>
    twoProcesses({ AGORA_CACHE_TTL_MS: '300' }, async (a, b) => {
      const { token } = await signUp(a, 'two_procs');
      assert.equal((await b.request('GET', '/api/v1/me', { token })).status, 200, 'b now holds a copy');
      assert.equal((await a.request('DELETE', '/api/v1/sessions/current', { token })).status, 204);
      assert.equal((await a.request('GET', '/api/v1/me', { token })).status, 401, 'at once in the revoking process');
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await b.request('GET', '/api/v1/me', { token })).status, 401, 'within the ttl elsewhere');
    }));

  test('a sign-out is sent to the other processes as a notice: seen there at once, however long AGORA_CACHE_TTL_MS is', () =>
    twoProcesses({ AGORA_CACHE_TTL_MS: '600000' }, async (a, b) => {
      const first = await signUp(a, 'noticed');
      const second = await a.request('POST', '/api/v1/sessions', {
        body: { username: 'noticed', password: 'correct horse' },
      });
      const other = await signUp(a, 'bystander');
      const me = async (token: string) => (await b.request('GET', '/api/v1/me', { token })).status;
      for (const token of [first.token, second.body.token, other.token])
        assert.equal(await me(token), 200, 'b now holds a copy');
      const soon = async (token: string) => {
        for (let i = 0; i < 40 && (await me(token)) !== 401; i++) await new Promise((r) => setTimeout(r, 50));
        return me(token);
      };

      assert.equal((await a.request('DELETE', '/api/v1/sessions/current', { token: first.token })).status, 204);
      assert.equal(await soon(first.token), 401, 'the signed-out token, well within the ttl');
      assert.equal(await me(second.body.token), 200, "the same account's other session goes on");

      assert.equal((await a.request('DELETE', '/api/v1/me/sessions', { token: second.body.token })).status, 204);
      assert.equal(await soon(second.body.token), 401, 'signed out everywhere');
      assert.equal(await me(other.token), 200, 'another account is untouched');
    }));

  test('with AGORA_CACHE_TTL_MS=0 a revocation is seen by every process at once', () =>
    twoProcesses({ AGORA_CACHE_TTL_MS: '0' }, async (a, b) => {
      const { token } = await signUp(a, 'no_cache');
      assert.equal((await b.request('GET', '/api/v1/me', { token })).status, 200);
      assert.equal((await a.request('DELETE', '/api/v1/sessions/current', { token })).status, 204);
      assert.equal((await b.request('GET', '/api/v1/me', { token })).status, 401);
    }));
});
