import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import pg from 'pg';
import { projectRoot } from '../src/paths.js';
import { assertEventually, startTestAppOn, type TestApp } from './support/app.js';
import { needs } from './support/stores.js';

interface PgServer {
  url: string;
  halt(): void;
  resume(): void;
  stop(): void;
}
const { startPostgres, startReplica } = (await import(
  pathToFileURL(join(projectRoot(), 'scripts/pg-server.mjs')).href
)) as {
  startPostgres(options?: { tuning?: Record<string, string> }): Promise<PgServer>;
  startReplica(primary: string, options?: { tuning?: Record<string, string> }): Promise<PgServer>;
};

const PASSWORD = 'a good long password';
const onDb = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();

/**
 * A real primary and a real streaming replica (`pg_basebackup -R`, hot
 * standby), started here: reads that may be behind go to the replica, a
 * writer always reads their own write while the replica's replay is paused,
 * a replica far behind or stopped is out of rotation (reads go on from the
 * primary), and back in once it has caught up.
 */
describe('read replicas with read-your-writes', needs('postgres'), () => {
  test('reads reach the replica; a writer sees their write while it lags; down or behind, the primary answers', async () => {
    const primary = await startPostgres({ tuning: { fsync: 'off' } });
    let replica: PgServer | null = null;
    let app: TestApp | null = null;
    const admin = new pg.Client(primary.url);
    try {
      await admin.connect();
      await admin.query('CREATE DATABASE agora_rep');
      replica = await startReplica(primary.url, { tuning: { fsync: 'off' } });
      app = await startTestAppOn(
        { url: onDb(primary.url, 'agora_rep'), drop: async () => undefined },
        { AGORA_DATABASE_REPLICA_URLS: onDb(replica.url, 'agora_rep'), AGORA_REPLICA_MAX_LAG_MS: '3000' },
      );
      const a = app;
      const tokens: Record<string, string> = {};
      for (const name of ['alice', 'bob']) {
        await a.request('POST', '/api/v1/accounts', { body: { username: name, password: PASSWORD } });
        tokens[name] = (
          await a.request('POST', '/api/v1/sessions', { body: { username: name, password: PASSWORD } })
        ).body.token;
      }
      await a.request('POST', '/api/v1/communities', {
        token: tokens.alice,
        body: { name: 'mirror', title: 'Mirror' },
      });
      const postId = (
        await a.request('POST', '/api/v1/communities/mirror/posts', { token: tokens.alice, body: { title: 'Lag' } })
      ).body.id as string;
      await a.request('POST', '/api/v1/communities', { token: tokens.alice, body: { name: 'quiet', title: 'Quiet' } });
      const calm = (
        await a.request('POST', '/api/v1/communities/quiet/posts', { token: tokens.alice, body: { title: 'Calm' } })
      ).body.id as string;

      const metric = async (name: string, label: string) =>
        Number(new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\S+)$`, 'm').exec(await a.metrics())?.[1] ?? NaN);
      const replicaName = onDb(replica.url, 'agora_rep');
      const replicaReads = () => metric('agora_store_replica_reads_total', `target="${replicaName}"`);
      const primaryReads = () => metric('agora_store_replica_reads_total', 'target="primary"');
      const healthy = () => metric('agora_replica_healthy', `replica="${replicaName}"`);
      const until = (what: string, ok: () => Promise<boolean>) => assertEventually(ok, what, 12_000);
      /** alice's comments as a reader sees them on her profile (a read that may be behind). */
      const profile = async (headers: { token?: string; position?: string } = {}) => {
        const r = await a.request('GET', '/api/v1/accounts/alice/comments?limit=100', {
          ...(headers.token ? { token: headers.token } : {}),
          ...(headers.position ? { headers: { 'agora-position': headers.position } } : {}),
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return (r.body.items as { body: string }[]).map((c) => c.body);
      };
      const comment = async (body: string) => {
        const r = await a.request('POST', `/api/v1/posts/${postId}/comments`, { token: tokens.alice, body: { body } });
        assert.equal(r.status, 201);
        assert.match(r.headers.get('agora-position') ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
        return r.headers.get('agora-position')!;
      };

      await comment('first');
      await until('the replica to be in rotation and caught up', async () => (await healthy()) === 1);
      await until('the first comment on the replica', async () =>
        (await profile({ token: tokens.bob })).includes('first'),
      );

      // Reads reach the replica, counted.
      const before = await replicaReads();
      for (let i = 0; i < 10; i++) assert.deepEqual(await profile({ token: tokens.bob }), ['first']);
      assert.equal((await replicaReads()) - before, 10, "bob's reads went to the replica");
      /** Posts' titles a search finds (the ranked list may be behind; the posts are read from the primary). */
      const search = async (q: string, token: string | undefined) => {
        const r = await a.request('GET', `/api/v1/search?type=posts&q=${q}`, { token });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return (r.body.items as { title: string }[]).map((p) => p.title);
      };
      const searched = await replicaReads();
      assert.deepEqual(await search('lag', tokens.bob), ['Lag']);
      assert.equal((await replicaReads()) - searched, 1, "bob's search went to the replica");
      /** The thread's comments, newest first (a kept tree, caught up on each read). */
      const thread = async (token: string | undefined) => {
        const r = await a.request('GET', `/api/v1/posts/${postId}/comments?sort=new&limit=100`, { token });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return (r.body.items as { body: string }[]).map((c) => c.body);
      };
      assert.deepEqual(await thread(tokens.bob), ['first']); // loaded from the primary, then kept
      const threadRead = await replicaReads();
      assert.deepEqual(await thread(tokens.bob), ['first']);
      assert.equal((await replicaReads()) - threadRead, 1, "bob's thread read caught up from the replica");

      /** A community's posts' titles, newest first (a page of the site's size is kept). */
      const listing = async (community: string, token: string | undefined, limit = 25) => {
        const r = await a.request('GET', `/api/v1/communities/${community}/posts?sort=new&limit=${limit}`, { token });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return (r.body.items as { title: string }[]).map((p) => p.title);
      };
      const listed = await replicaReads();
      assert.deepEqual(await listing('quiet', tokens.bob), ['Calm']);
      assert.deepEqual(await listing('quiet', tokens.bob), ['Calm']);
      assert.equal((await replicaReads()) - listed, 1, "bob's listing was read from the replica, then kept");
      const got = await replicaReads();
      for (let i = 0; i < 2; i++)
        assert.equal((await a.request('GET', `/api/v1/posts/${calm}`, { token: tokens.bob })).body.title, 'Calm');
      assert.equal((await replicaReads()) - got, 1, 'a post too (its row kept with its community)');

      // The replica's replay paused: each of alice's comments is in her next read, every time.
      const standby = new pg.Client(onDb(replica.url, 'agora_rep'));
      await standby.connect();
      try {
        await standby.query('SELECT pg_wal_replay_pause()');
        const bodies = ['first'];
        let position = '';
        for (let i = 0; i < 10; i++) {
          position = await comment(`while lagging ${i}`);
          bodies.unshift(`while lagging ${i}`);
          assert.deepEqual(await profile({ token: tokens.alice }), bodies, 'alice reads her own comment at once');
          // In the thread too, though bob's read (sent first) starts the catch-up alice's joins.
          const [, hers] = await Promise.all([thread(tokens.bob), thread(tokens.alice)]);
          assert.deepEqual(hers, bodies, 'and in the thread');
        }
        // bob's thread reads keep going to the replica; the kept tree never goes back.
        const lagging = await replicaReads();
        assert.deepEqual(await thread(tokens.bob), bodies);
        assert.equal((await replicaReads()) - lagging, 1);

        // A new post is in its author's next search, and in every search of this process after
        // the change (a list kept then has it), though the replica has not replayed it.
        const made = await a.request('POST', '/api/v1/communities/mirror/posts', {
          token: tokens.alice,
          body: { title: 'Zucchini glut' },
        });
        assert.equal(made.status, 201);
        assert.deepEqual(await search('zucchini', tokens.alice), ['Zucchini glut']);
        assert.deepEqual(await search('zucchini', tokens.bob), ['Zucchini glut']);
        assert.deepEqual(await search('glut', tokens.bob), ['Zucchini glut']);
        // So in its community's listing: hers, and every page this process reads after the change.
        assert.deepEqual(await listing('mirror', tokens.alice), ['Zucchini glut', 'Lag']);
        assert.deepEqual(await listing('mirror', tokens.bob), ['Zucchini glut', 'Lag']);
        assert.deepEqual(await listing('mirror', undefined, 10), ['Zucchini glut', 'Lag']);
        // Another community's reads keep going to the replica.
        const quiet = await replicaReads();
        assert.deepEqual(await listing('quiet', tokens.bob, 10), ['Calm']);
        assert.equal((await replicaReads()) - quiet, 1);

        // bob's reads keep going to the replica, which has not replayed them; an anonymous
        // client echoing the position it was given reads them.
        const replicaBefore = await replicaReads();
        assert.deepEqual(await profile({ token: tokens.bob }), ['first']);
        assert.equal((await replicaReads()) - replicaBefore, 1);
        assert.deepEqual(await profile({ position }), bodies);
        const bad = await a.request('GET', '/api/v1/accounts/alice/comments', { headers: { 'agora-position': 'zz' } });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, 'invalid_request');

        // Paused past AGORA_REPLICA_MAX_LAG_MS: out of rotation, bob reads from the primary.
        await until('the lagging replica to leave the rotation', async () => (await healthy()) === 0);
        const primaryBefore = await primaryReads();
        assert.deepEqual(await profile({ token: tokens.bob }), bodies);
        assert.equal((await primaryReads()) - primaryBefore, 1);
        assert.ok((await metric('agora_replica_lag_seconds', `replica="${replicaName}"`)) > 3);

        // Resumed: it catches up and comes back.
        await standby.query('SELECT pg_wal_replay_resume()');
        await until('the replica back in rotation', async () => (await healthy()) === 1);
        const back = await replicaReads();
        assert.deepEqual(await profile({ token: tokens.bob }), bodies);
        assert.equal((await replicaReads()) - back, 1);
      } finally {
        await standby.end().catch(() => undefined);
      }

      // The replica stopped: reads go on from the primary with no error; started, it is back.
      replica.halt();
      for (let i = 0; i < 10; i++) assert.equal((await profile({ token: tokens.bob })).length, 11);
      await until('the stopped replica out of rotation', async () => (await healthy()) === 0);
      replica.resume();
      await until('the restarted replica back in rotation', async () => (await healthy()) === 1);
      const again = await replicaReads();
      assert.equal((await profile({ token: tokens.bob })).length, 11);
      assert.equal((await replicaReads()) - again, 1);
    } finally {
      await app?.close();
      await admin.end().catch(() => undefined);
      replica?.stop();
      primary.stop();
    }
  });
});
