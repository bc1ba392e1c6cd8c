import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/platform/clock.js';
import { createAgora, type Agora } from '../../src/main.js';
import { freshDatabase, type StoreKind } from './stores.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
}

export interface TestApp {
  agora: Agora;
  base: string;
  request(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string },
  ): Promise<Answer>;
  /** The Prometheus text of /metrics (with the test token). */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/** Test-only defaults: quiet logs, no rate limits, a cheaper (still real) scrypt. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';
export const TEST_ENV = {
  AGORA_LOG_LEVEL: 'silent',
  AGORA_METRICS_TOKEN: TEST_METRICS_TOKEN,
  AGORA_RATE_LIMIT: 'off',
  AGORA_SCRYPT_COST: '16384',
};

/** The real app on a fresh database, listening on a free port; requests go over real HTTP. */
export async function startTestApp(kind: StoreKind, env: Record<string, string> = {}, clock?: Clock): Promise<TestApp> {
  const db = await freshDatabase(kind);
  return startTestAppOn(db, env, clock);
}

/** The real app on a given database (a second process on one PostgreSQL database, say). */
export async function startTestAppOn(
  db: { url: string; drop(): Promise<void> },
  env: Record<string, string> = {},
  clock?: Clock,
): Promise<TestApp> {
  const config = loadConfig({ ...TEST_ENV, ...env, AGORA_DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1' });
  const agora = await createAgora(config, clock ? { clock } : {});
  await agora.app.listen({ port: 0, host: '127.0.0.1' });
  agora.startWorkers();
  const address = agora.app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const request: TestApp['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(base + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return {
    agora,
    base,
    request,
    async metrics() {
      const res = await request('GET', '/metrics', { token: TEST_METRICS_TOKEN });
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.body as string;
    },
    async close() {
      await agora.close();
      await db.drop();
    },
  };
}

/** Creates an account and signs in; returns its token and id. */
export async function signUp(
  app: TestApp,
  username: string,
  password = 'correct horse',
): Promise<{ token: string; id: string }> {
  const created = await app.request('POST', '/api/v1/accounts', { body: { username, password } });
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
  const session = await app.request('POST', '/api/v1/sessions', { body: { username, password } });
  if (session.status !== 201) throw new Error(`sign-in failed: ${session.status} ${JSON.stringify(session.body)}`);
  return { token: session.body.token, id: created.body.id };
}

/** A site admin made as `agora admin create` makes one, signed in; returns its token and id. */
export async function signUpAdmin(
  app: TestApp,
  username: string,
  password = 'correct horse',
): Promise<{ token: string; id: string }> {
  const account = await app.agora.accounts.createAdmin({ username, password });
  const session = await app.request('POST', '/api/v1/sessions', { body: { username, password } });
  if (session.status !== 201) throw new Error(`sign-in failed: ${session.status} ${JSON.stringify(session.body)}`);
  return { token: session.body.token, id: account.id };
}

/** Two app processes on one new PostgreSQL database (what several Agora processes sharing a primary look like). */
export async function twoProcesses(
  env: Record<string, string>,
  fn: (a: TestApp, b: TestApp) => Promise<void>,
): Promise<void> {
  const db = await freshDatabase('postgres');
  const a = await startTestAppOn(db, env);
  const b = await startTestAppOn({ url: db.url, drop: async () => {} }, env);
  try {
    await fn(a, b);
  } finally {
    await b.close();
    await a.close();
  }
}

/** Waits for `check` to hold (what another process or the outbox does in its own time); fails after `ms`. */
export async function assertEventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
