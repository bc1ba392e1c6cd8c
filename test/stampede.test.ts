import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../src/platform/store/index.js';
import { seedSignedIn } from './support/seed.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { describeStores, freshDatabase } from './support/stores.js';

/**
 * A drop opening: 400 buyers x 3 concurrent attempts on a stock of 100,
 * against the real server process. Then the same with the server killed by
 * SIGKILL in the middle: after a restart, every order that got a 201 exists
 * and the drop's sold count is the sum of its orders' quantities, never past
 * the stock. Buyers and their sessions are seeded through the store (400
 * scrypt sign-ups would only test scrypt).
 */
describeStores('drop stampede', (kind) => {
  const BUYERS = 400;
  const ATTEMPTS = 3;
  const STOCK = 100;

  async function seed(url: string): Promise<{ admin: string; buyers: string[] }> {
    const [admin, ...buyers] = await seedSignedIn(url, [
      'st_admin',
      ...Array.from({ length: BUYERS }, (_, i) => `st_buyer_${i + 1}`),
    ]);
    return { admin: admin!, buyers };
  }

  const call = (server: ServerProcess, method: string, path: string, token: string, body?: unknown, key?: string) =>
    fetch(server.base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function newDrop(server: ServerProcess, admin: string): Promise<string> {
    await call(server, 'POST', '/api/v1/communities', admin, { name: 'st_shop', title: 'Shop' });
    const res = await call(server, 'POST', '/api/v1/drops', admin, {
      communityName: 'st_shop',
      name: 'Stampede',
      stock: STOCK,
      priceCents: 5000,
      currency: 'USD',
      startsAt: 0,
      perCustomerLimit: ATTEMPTS,
    });
    assert.equal(res.status, 201);
    return ((await res.json()) as { id: string }).id;
  }

  /** Every buyer's attempts, all at once; each answer's status, and the 201s' orders. */
  async function stampede(server: ServerProcess, dropId: string, buyers: string[], stop?: { killed: boolean }) {
    const statuses: number[] = [];
    const orders: { id: string; quantity: number; token: string }[] = [];
    await Promise.all(
      buyers.flatMap((token, b) =>
        Array.from({ length: ATTEMPTS }, async (_, a) => {
          try {
            const res = await call(
              server,
              'POST',
              `/api/v1/drops/${dropId}/orders`,
              token,
              { quantity: 1 },
              `st-${b}-${a}`,
            );
            statuses.push(res.status);
            if (res.status === 201) orders.push({ ...((await res.json()) as { id: string; quantity: number }), token });
          } catch (error) {
            if (!stop?.killed) throw error;
          }
        }),
      ),
    );
    return { statuses, orders };
  }

  test('400 buyers x 3 attempts on a stock of 100: exactly 100 reserved, no 5xx', async () => {
    const db = await freshDatabase(kind);
    const { admin, buyers } = await seed(db.url);
    const server = await startServerProcess({ AGORA_DATABASE_URL: db.url, AGORA_ADMINS: 'st_admin' });
    try {
      const dropId = await newDrop(server, admin);
      const { statuses, orders } = await stampede(server, dropId, buyers);
      assert.equal(statuses.length, BUYERS * ATTEMPTS);
      assert.deepEqual([...new Set(statuses)].sort(), [201, 409], 'only orders and sold_out');
      assert.equal(orders.length, STOCK);
      const drop = (await (await fetch(`${server.base}/api/v1/drops/${dropId}`)).json()) as {
        sold: number;
        remaining: number;
        status: string;
      };
      assert.deepEqual([drop.sold, drop.remaining, drop.status], [STOCK, 0, 'sold_out']);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await db.drop();
    }
  });

  test('killed with SIGKILL mid-stampede: every 201 order exists, sold = sum of orders <= stock', async () => {
    const db = await freshDatabase(kind);
    const { admin, buyers } = await seed(db.url);
    const env = { AGORA_DATABASE_URL: db.url, AGORA_ADMINS: 'st_admin' };
    const first = await startServerProcess(env);
    const dropId = await newDrop(first, admin);
    const stop = { killed: false };
    const running = stampede(first, dropId, buyers, stop);
    // Kill once some orders were answered and while requests are in flight.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const drop = (await (await fetch(`${first.base}/api/v1/drops/${dropId}`)).json()) as { sold: number };
      if (drop.sold >= 20) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    stop.killed = true;
    first.child.kill('SIGKILL');
    await first.exited;
    const { orders } = await running;
    assert.ok(orders.length > 0, 'some orders were answered before the kill');

    const second = await startServerProcess(env);
    try {
      for (const o of orders) {
        const res = await call(second, 'GET', `/api/v1/orders/${o.id}`, o.token);
        assert.equal(res.status, 200, `acknowledged order ${o.id} exists`);
      }
      const store = openStore({ url: db.url, sqliteSync: 'normal', pgPoolSize: 2 });
      try {
        const held = await store.q.get<{ n: number }>(
          "SELECT COALESCE(SUM(quantity), 0) AS n FROM orders WHERE drop_id = ? AND status IN ('pending', 'paid')",
          [dropId],
        );
        const drop = await store.q.get<{ sold: number; stock: number }>('SELECT sold, stock FROM drops WHERE id = ?', [
          dropId,
        ]);
        assert.equal(drop?.sold, Number(held?.n), 'units reserved == sum of order quantities');
        assert.ok((drop?.sold ?? Infinity) <= STOCK);
        assert.ok((drop?.sold ?? 0) >= orders.length);
      } finally {
        await store.close();
      }
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
      await db.drop();
    }
  });
});
