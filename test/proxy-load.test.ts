import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../src/paths.js';
import { TEST_METRICS_TOKEN } from './support/app.js';
import { seedSignedIn } from './support/seed.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { freshDatabase, needs } from './support/stores.js';

/** Debian's nginx (the test runner installs it when it can), or none. */
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * The sample reverse-proxy configuration (`deploy/nginx.conf`), run by a real
 * nginx as it is (only its ports changed) in front of two web processes and
 * a worker on one PostgreSQL.
 */
describe(
  'deploy/nginx.conf in front of two web processes',
  NGINX ? needs('postgres') : { skip: 'nginx is not installed (Debian: apt-get install nginx)' },
  () => {
    test('requests reach both, a stream passes unbuffered, Agora answers its own 413, a process down is stepped around', async () => {
      const db = await freshDatabase('postgres');
      const [admin, buyer] = await seedSignedIn(db.url, ['px_admin', 'px_buyer']);
      const env = { AGORA_DATABASE_URL: db.url, AGORA_TRUST_PROXY: '127.0.0.1' };
      const processes: ServerProcess[] = [];
      const dir = mkdtempSync(join(tmpdir(), 'agora-nginx-'));
      chmodSync(dir, 0o777);
      let nginx: ReturnType<typeof spawn> | null = null;
      try {
        for (const roles of ['web', 'web', 'worker'])
          processes.push(await startServerProcess({ ...env, AGORA_ROLES: roles }));
        const [web0, web1] = processes as [ServerProcess, ServerProcess];
        const port = await freePort();
        const portOf = (p: ServerProcess) => new URL(p.base).port;
        const sample = readFileSync(join(projectRoot(), 'deploy/nginx.conf'), 'utf8');
        const site = sample
          .replace('127.0.0.1:3001', `127.0.0.1:${portOf(web0)}`)
          .replace('127.0.0.1:3002', `127.0.0.1:${portOf(web1)}`)
          .replace('listen 80;', `listen 127.0.0.1:${port};`);
        assert.notEqual(site, sample);
        writeFileSync(join(dir, 'agora.conf'), site);
        const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
          .map((t) => `${t}_temp_path ${join(dir, t)};`)
          .join(' ');
        writeFileSync(
          join(dir, 'nginx.conf'),
          `daemon off; pid ${join(dir, 'nginx.pid')}; events { worker_connections 256; }\n` +
            `http { access_log off; ${temp} include ${join(dir, 'agora.conf')}; }\n`,
        );
        const checked = spawnSync(
          NGINX!,
          ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')],
          {
            encoding: 'utf8',
          },
        );
        assert.equal(checked.status, 0, checked.stderr);
        nginx = spawn(NGINX!, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
          stdio: 'ignore',
        });
        const base = `http://127.0.0.1:${port}`;
        for (let i = 0; ; i++) {
          const ok = await fetch(`${base}/healthz`).then(
            (r) => r.status === 200,
            () => false,
          );
          if (ok) break;
          if (i > 100) assert.fail(`nginx did not answer: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const call = async (method: string, path: string, token: string, body?: unknown, key?: string) => {
          const res = await fetch(base + path, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              ...(key ? { 'idempotency-key': key } : {}),
            },
            body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
          });
          return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
        };

        // Requests are spread over both web processes.
        for (let i = 0; i < 40; i++) assert.equal((await call('GET', '/api/v1/drops?status=live', admin!)).status, 200);
        const served = async (p: ServerProcess) => {
          const text = await (
            await fetch(`${p.base}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })
          ).text();
          return Number(
            /^agora_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/drops",status="200"\} (\d+)$/m.exec(
              text,
            )?.[1] ?? 0,
          );
        };
        const [a, b] = [await served(web0), await served(web1)];
        assert.equal(a + b, 40);
        assert.ok(a > 0 && b > 0, `both web processes served (${a} and ${b})`);

        // A body over Agora's limit gets Agora's own answer, not the proxy's
        // (never a 502 from a connection closed while nginx was writing the body).
        for (let i = 0; i < 10; i++) {
          const big = await call('POST', '/api/v1/communities', admin!, JSON.stringify({ name: 'x'.repeat(300_000) }));
          assert.equal(big.status, 413, `oversized body ${i}`);
          assert.match(big.type, /application\/json/);
          assert.match(big.text, /"code":"payload_too_large"/);
        }

        // A drop page's stream through the proxy gets a sale as it happens.
        assert.equal(
          (await call('POST', '/api/v1/communities', admin!, { name: 'px_shop', title: 'Shop' })).status,
          201,
        );
        const drop = await call('POST', '/api/v1/drops', admin!, {
          communityName: 'px_shop',
          name: 'Proxy',
          stock: 10,
          priceCents: 100,
          currency: 'EUR',
          startsAt: 0,
          perCustomerLimit: 2,
        });
        assert.equal(drop.status, 201);
        const dropId = (JSON.parse(drop.text) as { id: string }).id;
        const abort = new AbortController();
        const stream = await fetch(`${base}/drops/${dropId}/stream`, {
          headers: { accept: 'text/event-stream' },
          signal: abort.signal,
        });
        assert.equal(stream.status, 200);
        const reader = stream.body!.getReader();
        const decoder = new TextDecoder();
        const nextRemaining = async () => {
          for (;;) {
            const r = await reader.read();
            assert.ok(!r.done, 'the stream stays open');
            const m = /"remaining":(\d+)/.exec(decoder.decode(r.value));
            if (m) return Number(m[1]);
          }
        };
        assert.equal(await nextRemaining(), 10);
        assert.equal(
          (await call('POST', `/api/v1/drops/${dropId}/orders`, buyer!, { quantity: 2 }, 'px-1')).status,
          201,
        );
        const started = Date.now();
        assert.equal(await nextRemaining(), 8);
        assert.ok(Date.now() - started < 2_000, 'the stock arrived through the proxy at once');
        abort.abort();

        // One web process killed: every request still gets an answer, from the other.
        web0.child.kill('SIGKILL');
        await web0.exited;
        for (let i = 0; i < 10; i++) assert.equal((await call('GET', `/api/v1/drops/${dropId}`, buyer!)).status, 200);
      } finally {
        nginx?.kill('SIGTERM');
        for (const p of processes) p.child.kill('SIGTERM');
        await Promise.all(processes.map((p) => p.exited));
        rmSync(dir, { recursive: true, force: true });
        await db.drop();
      }
    });
  },
);
