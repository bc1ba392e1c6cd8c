import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { signUp, startTestApp, type TestApp } from './support/app.js';
import { describeStores } from './support/stores.js';

describeStores('HTTP platform', (kind) => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp(kind, { AGORA_BODY_LIMIT_BYTES: '2048' });
  });
  after(() => app.close());

  test('malformed JSON is 400 invalid_json', async () => {
    const res = await app.request('POST', '/api/v1/accounts', {
      raw: '{"username": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_json');
  });

  test('a body over AGORA_BODY_LIMIT_BYTES is 413 payload_too_large', async () => {
    const res = await app.request('POST', '/api/v1/accounts', {
      body: { username: 'big_body', password: 'x'.repeat(4000) },
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'payload_too_large');
  });

  test('a body over the limit is read to its end before the 413, so the connection stays open', async () => {
    // A reverse proxy still writing the body would see a closed connection
    // reset under it and answer 502 in Agora's place.
    const body = JSON.stringify({ username: 'big_body', password: 'x'.repeat(10_000) });
    const head = `POST /api/v1/accounts HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const next = 'GET /api/v1/communities HTTP/1.1\r\nhost: x\r\n\r\n';
    const answers = await rawExchange(app.base, [head, body.slice(0, 3000), body.slice(3000) + next], 2);
    assert.match(answers, /^HTTP\/1\.1 413 /);
    assert.match(answers, /"code":"payload_too_large"/);
    assert.doesNotMatch(answers, /connection: close/i);
    assert.match(answers, /\r\n\r\n[^]*HTTP\/1\.1 200 /, 'the next request on the connection is answered');

    // Far over the limit: answered at once, without waiting for the body, and the connection closed.
    const huge = `POST /api/v1/accounts HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n`;
    const refused = await rawExchange(app.base, [huge], 1);
    assert.match(refused, /^HTTP\/1\.1 413 /);
    assert.match(refused, /connection: close/i);
  });

  test('a body that is not JSON is 415 unsupported_media_type', async () => {
    const res = await app.request('POST', '/api/v1/accounts', {
      raw: 'username=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 415);
    assert.equal(res.body.error.code, 'unsupported_media_type');
  });

  test('NUL characters in any input are 400 invalid_request on both stores', async () => {
    const body = await app.request('POST', '/api/v1/accounts', {
      body: { username: 'nul_user', password: 'pass\u0000word1' },
    });
    assert.equal(body.status, 400);
    assert.equal(body.body.error.code, 'invalid_request');
    assert.equal(body.body.error.field, 'password');
    const query = await app.request('GET', '/api/v1/search?q=a%00b');
    assert.equal(query.status, 400);
  });

  test('numbers out of range (1e309 reads as Infinity) are 400 invalid_request, in queries and bodies', async () => {
    for (const path of [
      '/api/v1/search?q=a&limit=1e309',
      '/api/v1/communities?limit=-1e309',
      '/api/v1/feed?limit=Infinity',
    ]) {
      const res = await app.request('GET', path);
      assert.deepEqual(
        [res.status, res.body.error.code, res.body.error.field],
        [400, 'invalid_request', 'limit'],
        path,
      );
    }
    const { token } = await signUp(app, 'inf_voter');
    const vote = await app.request('PUT', '/api/v1/posts/x/vote', {
      token,
      raw: '{"value": 1e309}',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual([vote.status, vote.body.error.code, vote.body.error.field], [400, 'invalid_request', 'value']);
  });

  test('an unknown route is 404 not_found with a code', async () => {
    const res = await app.request('GET', '/api/v1/nothing-here');
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');
  });

  test('/docs/json is the OpenAPI document of the real routes', async () => {
    const res = await app.request('GET', '/docs/json');
    assert.equal(res.status, 200);
    assert.match(res.body.openapi, /^3\./);
    for (const path of [
      '/api/v1/accounts',
      '/api/v1/sessions',
      '/api/v1/sessions/current',
      '/api/v1/me',
      '/api/v1/accounts/{username}',
    ]) {
      assert.ok(res.body.paths[path], `${path} is documented`);
    }
    const body = res.body.paths['/api/v1/accounts'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required.sort(), ['password', 'username']);
  });

  test('/metrics exposes request latency by route and status, store and outbox gauges', async () => {
    await app.request('GET', '/api/v1/accounts/nobody_at_all');
    const text = await app.metrics();
    assert.match(
      text,
      /agora_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/accounts\/:username"[^}]*status="404"/,
    );
    for (const name of [
      'agora_store_writer_queue_depth',
      'agora_store_write_duration_seconds',
      'agora_outbox_backlog',
      'agora_outbox_oldest_age_seconds',
      'agora_outbox_failed',
    ]) {
      assert.match(text, new RegExp(`^${name}`, 'm'), name);
    }
  });

  test('read-only mode answers writes with 503 read_only and keeps reads working', async () => {
    const { token } = await signUp(app, 'ro_reader');
    app.agora.store.setReadOnly(true);
    try {
      const write = await app.request('POST', '/api/v1/accounts', {
        body: { username: 'ro_writer', password: 'password123' },
      });
      assert.equal(write.status, 503);
      assert.equal(write.body.error.code, 'read_only');
      assert.ok(Number(write.headers.get('retry-after')) > 0);
      assert.equal((await app.request('GET', '/api/v1/me', { token })).status, 200);
      const ready = await app.request('GET', '/readyz');
      assert.equal(ready.body.checks.writes, 'read-only');
    } finally {
      app.agora.store.setReadOnly(false);
    }
  });
});

/**
 * Writes `parts` to a new connection one after the other (each once the
 * last is flushed) and reads until `answers` responses have arrived or the
 * server closes the connection; returns everything read.
 */
async function rawExchange(base: string, parts: string[], answers: number): Promise<string> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  let text = '';
  const done = new Promise<string>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(finish, 5000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (
        (text.match(/^HTTP\/1\.1 /gm)?.length ?? 0) >= answers &&
        /\r\n\r\n/.test(text.slice(text.lastIndexOf('HTTP/1.1 ')))
      ) {
        setTimeout(finish, 50);
      }
    });
    socket.on('close', finish);
    socket.on('error', finish);
  });
  for (const part of parts) {
    if (socket.destroyed) break;
    await new Promise<void>((resolve) => socket.write(part, () => resolve()));
  }
  return done;
}
