import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { signUp, startTestApp, type TestApp } from './support/app.js';
import { describeStores } from './support/stores.js';
import { rng } from './support/rng.js';

/**
 * Random bodies, query strings, headers and path parameters on every route
 * (from the OpenAPI document, plus the operational routes). Every answer
 * must be 2xx/3xx/4xx with an error code on 4xx: never a 5xx, never a
 * dropped connection. The seed is printed so a failure can be replayed.
 */
const SEED = Number(process.env.AGORA_FUZZ_SEED ?? Date.now() % 1_000_000);
const PER_ROUTE = Number(process.env.AGORA_FUZZ_CASES ?? 60);

const STRINGS = [
  '',
  ' ',
  'a',
  'ab',
  'abc',
  'valid_name',
  'Ünïcødé',
  '👋🏽',
  '\u0000',
  '\ud800',
  'x'.repeat(300),
  'y'.repeat(50_000),
  '<script>alert(1)</script>',
  "'; DROP TABLE accounts; --",
  '../../etc/passwd',
  '%00',
  '%ZZ',
  '{}',
  'null',
  '-1',
  '1e309',
  'Bearer x',
  '\r\nX-Injected: 1',
  '?',
  '*',
  'correct horse',
  'a@b.c',
];

/** encodeURIComponent, but a lone surrogate becomes the invalid UTF-8 it would be. */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
}

function fuzzer(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const value = (depth: number): unknown => {
    switch (Math.floor(r() * (depth > 2 ? 6 : 8))) {
      case 0:
        return null;
      case 1:
        return r() < 0.5;
      case 2:
        return pick([0, -1, 1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, 100, 25]);
      case 3:
      case 4:
      case 5:
        return pick(STRINGS);
      case 6:
        return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
      default:
        return object(depth + 1);
    }
  };
  const object = (depth: number): Record<string, unknown> => {
    const keys = [
      'username',
      'password',
      'email',
      'title',
      'body',
      'value',
      'name',
      'quantity',
      'parentId',
      'limit',
      '__proto__',
      'constructor',
      pick(STRINGS),
    ];
    const out: Record<string, unknown> = {};
    for (let i = Math.floor(r() * 5); i > 0; i--) out[pick(keys)] = value(depth);
    if (r() < 0.3) {
      out.username = pick(['fuzz_user', 'FUZZ_USER', pick(STRINGS)]);
      out.password = pick(['password123', pick(STRINGS)]);
    }
    return out;
  };
  const body = (): { raw?: string; type?: string } => {
    switch (Math.floor(r() * 7)) {
      case 0:
        return {};
      case 1:
        return {
          raw: pick(['{', '[]', 'null', '"str"', '{"a":', 'not json', '\u0000', '{"username":1e999}']),
          type: 'application/json',
        };
      case 2:
        return {
          raw: JSON.stringify(value(0)),
          type: pick([
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/json; charset=latin1',
            'garbage',
          ]),
        };
      case 3:
        return { raw: 'x'.repeat(Math.floor(r() * 400_000)), type: 'application/json' };
      default:
        return { raw: JSON.stringify(object(0)), type: 'application/json' };
    }
  };
  const query = (): string => {
    const parts: string[] = [];
    for (let i = Math.floor(r() * 4); i > 0; i--) {
      const k = pick(['limit', 'cursor', 'sort', 't', 'q', 'depth', 'type', pick(STRINGS)]);
      parts.push(`${enc(k)}=${r() < 0.2 ? pick(['%ZZ', '%', '%00', '%E0%A4%A']) : enc(text(value(2)))}`);
    }
    return parts.length ? `?${parts.join('&')}` : '';
  };
  const segment = (): string =>
    r() < 0.25 ? pick(['%ZZ', '%00', '%2F', '..', '%E0%A4%A']) : enc(pick(STRINGS)) || 'x';
  const headers = (token: string): Record<string, string> => {
    const h: Record<string, string> = {};
    const auth = Math.floor(r() * 6);
    if (auth === 1) h.authorization = `Bearer ${token}`;
    if (auth === 2)
      h.authorization = pick([
        'Bearer',
        'Bearer ',
        'Basic Zm9vOmJhcg==',
        `Bearer ${'x'.repeat(5000)}`,
        'bearer abc',
        `Bearer ${token}x`,
      ]);
    if (r() < 0.2) h.accept = pick(['*/*', 'text/html', 'application/xml', 'garbage/!!']);
    // Only values an HTTP client can send (no control characters, Latin-1).
    if (r() < 0.2) h['idempotency-key'] = pick(STRINGS.filter((v) => /^[\x20-\x7e\xa0-\xff]*$/.test(v)));
    if (r() < 0.1) h['x-forwarded-for'] = pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1']);
    return h;
  };
  return { pick, body, query, segment, headers, r };
}

interface RawAnswer {
  status: number;
  body: string;
}

function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  raw?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (raw !== undefined) req.write(raw);
    req.end();
  });
}

describeStores('fuzzing every route', (kind) => {
  let app: TestApp;
  let token: string;
  let routes: { method: string; path: string }[];

  before(async () => {
    app = await startTestApp(kind, { AGORA_BODY_LIMIT_BYTES: '262144' });
    ({ token } = await signUp(app, 'fuzz_owner'));
    const doc = (await app.request('GET', '/docs/json')).body as { paths: Record<string, Record<string, unknown>> };
    routes = [
      ...Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })),
      ),
      { method: 'GET', path: '/healthz' },
      { method: 'GET', path: '/readyz' },
      { method: 'GET', path: '/metrics' },
      { method: 'GET', path: '/api/v1/no/such/route' },
    ];
    assert.ok(routes.length >= 9, 'the OpenAPI document lists the routes');
  });
  after(() => app.close());

  test(`random input never gets a 5xx or a dropped connection (seed ${SEED})`, async () => {
    const f = fuzzer(SEED);
    const problems: string[] = [];
    for (const route of routes) {
      for (let i = 0; i < PER_ROUTE; i++) {
        const method =
          f.r() < 0.1 ? f.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) : route.method;
        const path = route.path.replace(/\{[^}]+\}/g, () => f.segment()) + f.query();
        const headers = f.headers(token);
        const body = method === 'GET' || method === 'HEAD' ? {} : f.body();
        if (body.type) headers['content-type'] = body.type;
        if (body.raw !== undefined) headers['content-length'] = String(Buffer.byteLength(body.raw));
        let answer: RawAnswer;
        try {
          answer = await send(app.base, method, path, headers, body.raw);
        } catch (error) {
          problems.push(`${method} ${path}: connection failed (${(error as Error).message})`);
          continue;
        }
        if (answer.status >= 500) problems.push(`${method} ${path} -> ${answer.status} ${answer.body.slice(0, 200)}`);
        else if (answer.status >= 400 && method !== 'HEAD') {
          let code: unknown;
          try {
            code = (JSON.parse(answer.body) as { error?: { code?: unknown } }).error?.code;
          } catch {
            code = undefined;
          }
          if (typeof code !== 'string' || !/^[a-z_]+$/.test(code))
            problems.push(`${method} ${path} -> ${answer.status} without an error code: ${answer.body.slice(0, 200)}`);
        }
      }
    }
    assert.deepEqual(problems.slice(0, 20), [], `seed ${SEED}: ${problems.length} problems`);
  });

  test('the server is still healthy and consistent afterwards', async () => {
    assert.equal((await app.request('GET', '/readyz')).status, 200);
    // The fuzzer may have signed its token out (DELETE /sessions/current): sign in again.
    const session = await app.request('POST', '/api/v1/sessions', {
      body: { username: 'fuzz_owner', password: 'correct horse' },
    });
    assert.equal(session.status, 201);
    assert.equal((await app.request('GET', '/api/v1/me', { token: session.body.token })).status, 200);
  });
});
