// A "-load" test: it runs after the others, alone (the migration's applier reads below PostgreSQL's server-wide
// snapshot horizon, which other files' transactions would hold back).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { systemClock } from '../src/platform/clock.js';
import { loadMigrations, migrate, openStore, type Store } from '../src/platform/store/index.js';
import { migrationsDir } from '../src/paths.js';
import { TEST_ENV } from './support/app.js';
import { testEnv } from './support/env.js';
import { CLI, startServerProcess, type ServerProcess } from './support/server-process.js';
import { freshDatabase, needs } from './support/stores.js';

/**
 * The server is killed with SIGKILL while a migration copies, and again in
 * the middle of a cutover or rollback; each time it is started again with the
 * same (old) URL. The migration goes on from what the stores hold — the copy
 * from its last chunk, not from the start — and ends with 0 mismatches and
 * every acknowledged write in the store the site serves from.
 */

interface Status {
  phase: string;
  runningHere: boolean;
  copiedRows: number;
  tables: { name: string; copied: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open = (url: string) => openStore({ url, sqliteSync: 'normal', pgPoolSize: 2 });

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('live migration survives SIGKILL [sqlite → postgres]', needs('postgres'), () => {
  test('killed while copying and inside a cutover or rollback: resumed, 0 mismatches, nothing acknowledged lost', async (t) => {
    const sourceDb = await freshDatabase('sqlite');
    const targetDb = await freshDatabase('postgres');
    const env = { AGORA_DATABASE_URL: sourceDb.url, AGORA_MIGRATION_CHUNK_ROWS: '100', AGORA_LOG_LEVEL: 'info' };

    // 40,000 rows to copy (a few hundred chunks), and a site admin.
    const seeding = open(sourceDb.url);
    await migrate(seeding, loadMigrations(migrationsDir(), 'sqlite'), systemClock);
    await seeding.write(async (tx) => {
      for (let i = 0; i < 40_000; i += 500) {
        const rows = Array.from({ length: 500 }, (_, k) => ['seed', String(i + k).padStart(6, '0'), `local ${i + k}`]);
        await tx.run(
          `INSERT INTO import_map (source, external_id, local_id) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`,
          rows.flat(),
        );
      }
    });
    await seeding.close();
    const made = spawnSync(process.execPath, [CLI, 'admin', 'create', 'root'], {
      env: { ...testEnv(), ...TEST_ENV, ...env },
      input: 'root password\n',
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);

    let server: ServerProcess = await startServerProcess(env);
    const signIn = async () =>
      (await call(server.base, 'POST', '/api/v1/sessions', undefined, { username: 'root', password: 'root password' }))
        .body.token as string;
    let token = await signIn();
    assert.equal(
      (await call(server.base, 'POST', '/api/v1/communities', token, { name: 'kill_town', title: 'T' })).status,
      201,
    );
    const postId = (
      await call(server.base, 'POST', '/api/v1/communities/kill_town/posts', token, { title: 'thread', body: 'b' })
    ).body.id as string;

    // A writer that goes on through every kill: what was answered 201 must survive.
    const acknowledged: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          const r = await call(server.base, 'POST', `/api/v1/posts/${postId}/comments`, token, { body: `c ${i}` });
          if (r.status === 201) acknowledged.push(r.body.id as string);
          else if (r.status !== 401) assert.fail(`comment answered ${r.status}: ${JSON.stringify(r.body)}`);
        } catch {
          await sleep(20); // the server is down: try again
        }
      }
    })();
    const restart = async () => {
      server.child.kill('SIGKILL');
      await server.exited;
      server = await startServerProcess(env);
      token = await signIn();
    };
    const status = async (): Promise<Status> => (await call(server.base, 'GET', '/admin/migration', token)).body;
    const waitFor = async (what: string, ok: (s: Status) => boolean) => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const s = await status();
        if (ok(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
        await sleep(50);
      }
    };

    try {
      const started = await call(server.base, 'POST', '/admin/migration', token, { target: targetDb.url });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const before = await waitFor('a part of the copy', (s) => s.copiedRows > 4000);
      await restart();
      const resumed = await waitFor('the migration running again', (s) => s.runningHere);
      assert.ok(['copying', 'streaming'].includes(resumed.phase), JSON.stringify(resumed));
      const copiedAfter = resumed.tables.find((t) => t.name === 'import_map')?.copied ?? 0;
      const copiedBefore = before.tables.find((t) => t.name === 'import_map')?.copied ?? Infinity;
      assert.ok(
        copiedAfter >= copiedBefore,
        `the copy went on from its last chunk (${copiedAfter} >= ${copiedBefore})`,
      );
      await waitFor('streaming', (s) => s.phase === 'streaming');

      // Killed inside a cutover (or, if it got through, inside the rollback), at different moments.
      for (const delay of [20, 250, 2000, 100, 2000]) {
        const { phase } = await waitFor(
          'the migration running here',
          (s) => s.runningHere || s.phase === 'rolled_back',
        );
        if (phase !== 'streaming' && phase !== 'cut_over') break;
        await sleep(200);
        const command = phase === 'streaming' ? '/admin/migration/cutover' : '/admin/migration/rollback';
        const sent = call(server.base, 'POST', command, token).catch(() => null);
        await sleep(delay);
        await restart();
        const after = await waitFor('a phase after the restart', (s) =>
          ['streaming', 'cut_over', 'rolled_back'].includes(s.phase),
        );
        const answered = await sent;
        t.diagnostic(
          `${command} killed after ${delay} ms (answer: ${answered?.status ?? 'none'}): ${phase} → ${after.phase}`,
        );
        if (after.phase !== 'rolled_back') {
          const report = await call(server.base, 'POST', '/admin/migration/verify', token);
          assert.equal(report.status, 200, JSON.stringify(report.body));
          assert.equal(
            report.body.mismatches,
            0,
            JSON.stringify(report.body.tables.filter((t: { mismatches: number }) => t.mismatches)),
          );
        }
      }
      writing = false;
      await writer;
      assert.ok(acknowledged.length > 20, `writes went on (${acknowledged.length})`);

      // Every acknowledged comment is in the store the site serves from, once.
      const final = await status();
      const primaryUrl = ['cut_over', 'done'].includes(final.phase) ? targetDb.url : sourceDb.url;
      const primary: Store = open(primaryUrl);
      try {
        for (let i = 0; i < acknowledged.length; i += 200) {
          const slice = acknowledged.slice(i, i + 200);
          const found = await primary.q.all(
            `SELECT id FROM comments WHERE id IN (${slice.map(() => '?').join(', ')})`,
            slice,
          );
          assert.equal(found.length, slice.length, `every acknowledged comment is on the primary (${final.phase})`);
        }
      } finally {
        await primary.close();
      }
    } finally {
      writing = false;
      await writer;
      server.child.kill('SIGTERM');
      await server.exited;
      await sourceDb.drop();
      await targetDb.drop();
    }
  });
});
