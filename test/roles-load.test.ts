import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { seedSignedIn } from './support/seed.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { assertEventually, TEST_METRICS_TOKEN } from './support/app.js';
import { freshDatabase, needs } from './support/stores.js';

/**
 * Process roles on one PostgreSQL: two web processes (AGORA_ROLES=web) and two
 * workers (AGORA_ROLES=worker), each a real `agora serve`. Buyers stampede a
 * drop through both web processes; their pending orders expire; every outbox
 * event (each order's confirmation e-mail among them) is delivered once; a
 * drop page's live stock on one web process follows sales made on the other;
 * a sign-out on one web process holds on the other.
 */
describe('process roles: two web processes and two workers on one PostgreSQL', needs('postgres'), () => {
  const BUYERS = 150;
  const STOCK = 60;

  test('the stampede holds, each expiry and each event happens once, sign-outs and stock cross processes', async () => {
    const db = await freshDatabase('postgres');
    const [admin, ...buyers] = await seedSignedIn(
      db.url,
      ['rl_admin', ...Array.from({ length: BUYERS }, (_, i) => `rl_buyer_${i}`)],
      (name) => `${name}@example.test`,
    );
    const env = {
      AGORA_DATABASE_URL: db.url,
      AGORA_ORDER_TTL_SECONDS: '4',
      AGORA_OUTBOX_POLL_MS: '100',
      AGORA_PG_POOL_SIZE: '10',
      // Copies kept a minute: what another process changes must reach them by notice.
      AGORA_CACHE_TTL_MS: '60000',
    };
    const processes: ServerProcess[] = [];
    const start = async (roles: string) => {
      const p = await startServerProcess({ ...env, AGORA_ROLES: roles });
      processes.push(p);
      return p;
    };
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      const webs = [await start('web'), await start('web')] as const;
      const workers = [await start('worker'), await start('worker')] as const;
      const call = async (
        p: ServerProcess,
        method: string,
        path: string,
        token: string,
        body?: unknown,
        key?: string,
      ) => {
        const res = await fetch(p.base + path, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(key ? { 'idempotency-key': key } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return {
          status: res.status,
          body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
        };
      };

      // A worker answers the operations routes alone.
      assert.equal((await fetch(`${workers[0].base}/healthz`)).status, 200);
      assert.equal((await call(workers[0], 'GET', '/api/v1/me', admin!)).status, 404);
      assert.equal((await fetch(`${workers[0].base}/`)).status, 404);

      assert.equal(
        (await call(webs[0], 'POST', '/api/v1/communities', admin!, { name: 'rl_shop', title: 'Shop' })).status,
        201,
      );
      const drop = await call(webs[0], 'POST', '/api/v1/drops', admin!, {
        communityName: 'rl_shop',
        name: 'Roles',
        stock: STOCK,
        priceCents: 1000,
        currency: 'EUR',
        startsAt: 0,
        perCustomerLimit: 1,
      });
      assert.equal(drop.status, 201);
      const dropId = drop.body.id as string;

      // A drop page's stream on the second web process: every stock it is sent.
      const seen: number[] = [];
      const streamAbort = new AbortController();
      const stream = await fetch(`${webs[1].base}/drops/${dropId}/stream`, {
        headers: { accept: 'text/event-stream' },
        signal: streamAbort.signal,
      });
      assert.equal(stream.status, 200);
      const reading = (async () => {
        const reader = stream.body!.getReader();
        const decoder = new TextDecoder();
        try {
          for (let r = await reader.read(); !r.done; r = await reader.read())
            for (const m of decoder.decode(r.value).matchAll(/"remaining":(\d+)/g)) seen.push(Number(m[1]));
        } catch {
          // aborted at the end
        }
      })();
      const until = (what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) => assertEventually(ok, what, ms);
      await until('the stream opens', () => seen.includes(STOCK));

      // The stampede, buyers alternating between the web processes, all at once.
      const answers = await Promise.all(
        buyers.map((token, i) =>
          call(webs[i % 2]!, 'POST', `/api/v1/drops/${dropId}/orders`, token, { quantity: 1 }, `rl-${i}`),
        ),
      );
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((s) => s === 201).length, STOCK, `orders placed: ${statuses.join(',')}`);
      assert.ok(
        statuses.every((s) => s === 201 || s === 409),
        `only 201 or 409: ${[...new Set(statuses)].join(',')}`,
      );
      const placedOn = answers.map((a, i) => (a.status === 201 ? i % 2 : -1)).filter((w) => w >= 0);
      assert.ok(placedOn.includes(0) && placedOn.includes(1), 'both web processes sold');
      for (const web of webs)
        assert.equal((await call(web, 'GET', `/api/v1/drops/${dropId}`, admin!)).body.remaining, 0);
      // The second web process's stream saw the stock reach 0, sales made on the first included.
      await until('the stream on the other process sees the sell-out', () => seen.includes(0));

      // Each pending order expires once (a worker's sweep), the units come back.
      await until(
        'every order to expire',
        async () => (await call(webs[1], 'GET', `/api/v1/drops/${dropId}`, admin!)).body.remaining === STOCK,
      );
      await until('the stream sees the units come back', () => seen.at(-1) === STOCK);
      const count = async (sql: string, params: unknown[] = []) =>
        Number((await client.query<{ n: string }>(sql, params)).rows[0]!.n);
      assert.equal(await count(`SELECT count(*) AS n FROM orders WHERE status = 'expired'`), STOCK);
      assert.equal(
        await count(`SELECT count(*) AS n FROM outbox WHERE topic = 'order.expired'`),
        STOCK,
        'one expiry each',
      );
      assert.equal(await count(`SELECT count(*) AS n FROM outbox WHERE topic = 'order.created'`), STOCK);

      // Every event delivered, by the workers only, once each.
      await until(
        'every event to be delivered',
        async () => (await count(`SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL`)) === 0,
      );
      const delivered = async (p: ServerProcess) => {
        const text = await (
          await fetch(`${p.base}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })
        ).text();
        return [...text.matchAll(/^agora_outbox_delivered_total\{[^}]*\} (\d+)$/gm)].reduce(
          (n, m) => n + Number(m[1]),
          0,
        );
      };
      const [web0, web1, worker0, worker1] = (await Promise.all(processes.map(delivered))) as [
        number,
        number,
        number,
        number,
      ];
      assert.equal(web0 + web1, 0, 'a web process delivers no event');
      assert.equal(worker0 + worker1, await count('SELECT count(*) AS n FROM outbox'), 'each event delivered once');
      // Each buyer's confirmation e-mail went out once, from one worker.
      const mails = processes.flatMap((p) => p.lines.filter((l) => l.includes('"msg":"mail to ')));
      assert.equal(mails.length, STOCK);
      assert.equal(new Set(mails.map((l) => /"msg":"mail to ([^:]+):/.exec(l)?.[1])).size, STOCK);

      // A listing page or a search result list kept by one web process is dropped when a post
      // is made on the other: within the notice's delivery, not the copies' minute.
      const reaches = async (what: string, path: string, title: string) => {
        const titles = async () =>
          (await call(webs[1], 'GET', path, admin!)).body.items.map((p: { title: string }) => p.title);
        assert.deepEqual(await titles(), []);
        assert.deepEqual(await titles(), [], 'kept');
        assert.equal((await call(webs[0], 'POST', '/api/v1/communities/rl_shop/posts', admin!, { title })).status, 201);
        const posted = Date.now();
        await until(
          `the other process's ${what} to have the new post`,
          async () => (await titles()).includes(title),
          1_000,
        );
        console.log(`[roles] a new post reached the other web process's kept ${what} in ${Date.now() - posted} ms`);
      };
      await reaches('listing', '/api/v1/communities/rl_shop/posts?sort=new', 'Fresh');
      await reaches('search results', '/api/v1/search?type=posts&q=crisp', 'Crisp');

      // A reader's subscription list and account row kept by one web process follow a change
      // made on the other: a subscription is in their next feed there, a vote in the author's karma.
      const reader = buyers[1]!;
      const feed = async () =>
        (await call(webs[1], 'GET', '/api/v1/feed?sort=new', reader)).body.items.map((p: { title: string }) => p.title);
      assert.deepEqual(await feed(), []);
      assert.deepEqual(await feed(), [], 'kept');
      assert.equal((await call(webs[0], 'PUT', '/api/v1/communities/rl_shop/subscription', reader)).status, 204);
      const subscribed = Date.now();
      await until(
        'the other process to have the new subscription',
        async () => (await feed()).includes('Fresh'),
        1_000,
      );
      console.log(`[roles] a subscription reached the other web process's kept list in ${Date.now() - subscribed} ms`);
      const karma = async () => (await call(webs[1], 'GET', '/api/v1/me', admin!)).body.karma.post as number;
      const before = await karma();
      assert.equal(await karma(), before, 'kept');
      const fresh = (await call(webs[1], 'GET', '/api/v1/communities/rl_shop/posts?sort=new', reader)).body.items[0];
      assert.equal((await call(webs[0], 'PUT', `/api/v1/posts/${fresh.id}/vote`, reader, { value: 1 })).status, 200);
      const voted = Date.now();
      await until(
        "the other process to have the author's new karma",
        async () => (await karma()) === before + 1,
        1_000,
      );
      console.log(`[roles] a vote reached the other web process's kept account in ${Date.now() - voted} ms`);

      // A reply's inbox item, written by a worker, is in the unread count the web process keeps.
      const unread = async () => (await call(webs[1], 'GET', '/api/v1/me/inbox', admin!)).body.unreadCount as number;
      const parent = await call(webs[0], 'POST', `/api/v1/posts/${fresh.id}/comments`, admin!, { body: 'Ask me' });
      assert.equal(parent.status, 201);
      const unreadBefore = await unread();
      assert.equal(await unread(), unreadBefore, 'kept');
      const answered = await call(webs[0], 'POST', `/api/v1/posts/${fresh.id}/comments`, reader, {
        body: 'An answer',
        parentId: parent.body.id,
      });
      assert.equal(answered.status, 201);
      const replied = Date.now();
      await until(
        'the web process to count the new inbox item',
        async () => (await unread()) === unreadBefore + 1,
        3_000,
      );
      console.log(`[roles] a reply reached the other web process's kept unread count in ${Date.now() - replied} ms`);

      // A sign-out on one web process holds on the other.
      const token = buyers[0]!;
      assert.equal((await call(webs[1], 'GET', '/api/v1/me', token)).status, 200);
      assert.equal((await call(webs[0], 'DELETE', '/api/v1/sessions/current', token)).status, 204);
      await until(
        'the other web process to refuse the token',
        async () => (await call(webs[1], 'GET', '/api/v1/me', token)).status === 401,
        2_000,
      );

      streamAbort.abort();
      await reading;
    } finally {
      for (const p of processes) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
      await client.end();
      await db.drop();
    }
  });
});
