import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { TEST_ENV } from './support/app.js';
import { testEnv } from './support/env.js';
import { CLI, startServerProcess } from './support/server-process.js';
import { freshDatabase, needs } from './support/stores.js';

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const cli = (args: string[], env: Record<string, string>, cwd?: string) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...testEnv(), ...TEST_ENV, ...env }, encoding: 'utf8' });

test('serve with no configuration creates ./data/agora.db, logs its URL, store and /docs, and stops cleanly on SIGTERM', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'agora-serve-'));
  try {
    const server = await startServerProcess({}, cwd);
    assert.ok(existsSync(join(cwd, 'data', 'agora.db')), 'the SQLite file is created under ./data');
    const line = server.lines.find((l) => l.includes('Agora listening')) ?? '';
    assert.match(line, /"store":"sqlite:[^"]*data\/agora\.db"/);
    assert.match(line, /"docs":"http:\/\/127\.0\.0\.1:\d+\/docs"/);
    assert.equal((await fetch(`${server.base}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.base}/docs`)).status, 200);
    const ready = (await (await fetch(`${server.base}/readyz`)).json()) as { status: string };
    assert.equal(ready.status, 'ready');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.ok(server.lines.some((l) => l.includes('"msg":"stopped"')));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('an Agora setting exported in the shell that runs the tests does not reach the servers they start', async () => {
  const db = await freshDatabase('sqlite');
  process.env.AGORA_BODY_LIMIT_BYTES = '10';
  try {
    const server = await startServerProcess({ AGORA_DATABASE_URL: db.url });
    try {
      const res = await postJson(`${server.base}/api/v1/accounts`, { username: 'env_leak', password: 'correct horse' });
      assert.equal(res.status, 201, "the body limit is the default, not the shell's");
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    delete process.env.AGORA_BODY_LIMIT_BYTES;
    await db.drop();
  }
});

test('SIGTERM lets an in-flight request finish', async () => {
  const db = await freshDatabase('sqlite');
  const server = await startServerProcess({ AGORA_DATABASE_URL: db.url, AGORA_SCRYPT_COST: '65536' });
  try {
    const pending = postJson(`${server.base}/api/v1/accounts`, { username: 'inflight', password: 'password123' });
    await new Promise((r) => setTimeout(r, 30));
    server.child.kill('SIGTERM');
    assert.equal((await pending).status, 201);
    assert.equal(await server.exited, 0);
  } finally {
    await db.drop();
  }
});

test('SIGTERM does not wait for a connection that never sent a request', async () => {
  const db = await freshDatabase('sqlite');
  const server = await startServerProcess({ AGORA_DATABASE_URL: db.url });
  const silent = connect(Number(new URL(server.base).port), '127.0.0.1');
  try {
    await new Promise((resolve) => silent.once('connect', resolve));
    const stopped = Date.now();
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    // Node's keep-alive timeout is 72 s: a shutdown that waited for the silent connection would take that long.
    assert.ok(Date.now() - stopped < 10_000, `stopped in ${Date.now() - stopped} ms`);
  } finally {
    silent.destroy();
    await db.drop();
  }
});

test('serve runs the same API on PostgreSQL', needs('postgres'), async () => {
  const db = await freshDatabase('postgres');
  try {
    const server = await startServerProcess({ AGORA_DATABASE_URL: db.url });
    const line = server.lines.find((l) => l.includes('Agora listening')) ?? '';
    assert.match(line, /"store":"postgres:\/\/agora@127\.0\.0\.1:\d+\/t_/);
    const res = await postJson(`${server.base}/api/v1/accounts`, { username: 'on_postgres', password: 'password123' });
    assert.equal(res.status, 201);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  } finally {
    await db.drop();
  }
});

test('serve refuses a database whose schema is newer than it knows', async () => {
  const db = await freshDatabase('sqlite');
  try {
    assert.equal(cli(['db', 'migrate'], { AGORA_DATABASE_URL: db.url }).status, 0);
    const file = db.url.slice('sqlite:'.length);
    const sqlite = new Database(file);
    sqlite
      .prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)')
      .run(9999, 'future', 'x', 1);
    sqlite.close();
    const r = cli(['serve'], { AGORA_DATABASE_URL: db.url, PORT: '0' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /newer than this build/);
    const status = cli(['db', 'status'], { AGORA_DATABASE_URL: db.url });
    assert.equal(status.status, 1);
    assert.match(status.stdout, /unknown:\s+9999/);
  } finally {
    await db.drop();
  }
});

test('db migrate and db status report the schema', needs('postgres'), async () => {
  const db = await freshDatabase('postgres');
  try {
    const before = cli(['db', 'status'], { AGORA_DATABASE_URL: db.url });
    assert.equal(before.status, 0);
    assert.match(before.stdout, /current:\s+0/);
    assert.match(before.stdout, /pending:\s+1_foundation/);
    const migrate = cli(['db', 'migrate'], { AGORA_DATABASE_URL: db.url });
    assert.equal(migrate.status, 0);
    assert.match(migrate.stdout, /applied 0001_foundation/);
    const again = cli(['db', 'migrate'], { AGORA_DATABASE_URL: db.url });
    assert.match(again.stdout, /schema is up to date/);
    assert.match(cli(['db', 'status'], { AGORA_DATABASE_URL: db.url }).stdout, /pending:\s+none/);
  } finally {
    await db.drop();
  }
});

test('bad configuration stops the start with every problem named', () => {
  const r = cli(['serve'], { PORT: 'eighty', AGORA_SQLITE_SYNC: 'sometimes', AGORA_DATABASE_URL: 'mysql://x' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /PORT="eighty": must be a whole number/);
  assert.match(r.stderr, /AGORA_SQLITE_SYNC="sometimes": must be one of normal, full/);
  const url = cli(['serve'], { AGORA_DATABASE_URL: 'mysql://x', PORT: '0' });
  assert.equal(url.status, 1);
  assert.match(url.stderr, /must start with sqlite: or postgres:\/\//);
  assert.equal(cli(['frobnicate'], {}).status, 2);
});

test('AGORA_ROLES: a bad role is refused, and a single role on SQLite (served by one process) too', async () => {
  const bad = cli(['serve'], { AGORA_ROLES: 'web,cron', PORT: '0' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /AGORA_ROLES="web,cron": must be `web`, `worker` or `web,worker`/);
  const db = await freshDatabase('sqlite');
  try {
    const r = cli(['serve'], { AGORA_DATABASE_URL: db.url, AGORA_ROLES: 'worker', PORT: '0' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /AGORA_ROLES=worker needs PostgreSQL/);
  } finally {
    await db.drop();
  }
});
