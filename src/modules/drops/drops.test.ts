import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createManualClock } from '../../platform/clock.js';
import { signUp, signUpAdmin, startTestApp, type TestApp } from '../../../test/support/app.js';
import { describeStores } from '../../../test/support/stores.js';
import { TRANSITIONS, transition, type OrderEvent, type OrderStatus } from './lifecycle.js';
import { signPayload } from './payments.js';

const SECRET = 'whsec_test_secret';

test('the order lifecycle table: pending -> paid | expired | cancelled, paid -> refunded, nothing else', () => {
  const allowed: string[] = [];
  for (const from of Object.keys(TRANSITIONS) as OrderStatus[]) {
    for (const event of ['pay', 'expire', 'cancel', 'refund'] as OrderEvent[]) {
      const to = transition(from, event);
      if (to) allowed.push(`${from} -${event}-> ${to}`);
    }
  }
  assert.deepEqual(allowed, [
    'pending -pay-> paid',
    'pending -expire-> expired',
    'pending -cancel-> cancelled',
    'paid -refund-> refunded',
  ]);
});

describeStores('drops and orders', (kind) => {
  const start = Date.UTC(2026, 8, 1);
  const clock = createManualClock(start);
  let app: TestApp;
  let mod: string;
  let buyers: string[];
  let outsider: string;
  let admin: string;
  const hour = 3600_000;

  const newDrop = async (over: Record<string, unknown> = {}, token = mod) => {
    const res = await app.request('POST', '/api/v1/drops', {
      token,
      body: {
        communityName: 'd_shop',
        name: 'Sneakers',
        stock: 10,
        priceCents: 12_000,
        currency: 'eur',
        startsAt: clock.now(),
        perCustomerLimit: 2,
        ...over,
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string };
  };
  let keys = 0;
  const order = (token: string, dropId: string, quantity: number, key = `k-${keys++}`) =>
    app.request('POST', `/api/v1/drops/${dropId}/orders`, {
      token,
      body: { quantity },
      headers: { 'idempotency-key': key },
    });
  const dropOf = async (id: string) => (await app.request('GET', `/api/v1/drops/${id}`)).body;

  before(async () => {
    app = await startTestApp(
      kind,
      {
        AGORA_ADMINS: 'd_admin',
        AGORA_ORDER_TTL_SECONDS: '60',
        AGORA_PUBLIC_URL: 'https://shop.example',
        AGORA_PAYMENT_WEBHOOK_SECRET: SECRET,
      },
      clock,
    );
    [mod, outsider] = (await Promise.all(['d_mod', 'd_outsider'].map((u) => signUp(app, u)))).map((s) => s.token) as [
      string,
      string,
    ];
    admin = (await signUpAdmin(app, 'd_admin')).token;
    buyers = (await Promise.all(Array.from({ length: 8 }, (_, i) => signUp(app, `d_buyer_${i}`)))).map((s) => s.token);
    await app.request('POST', '/api/v1/communities', { token: mod, body: { name: 'd_shop', title: 'Shop' } });
  });
  after(() => app.close());

  test('create: moderators and site admins only; bad times and unknown communities refused', async () => {
    const drop = await newDrop({ description: 'Limited run', startsAt: start + hour, endsAt: start + 2 * hour });
    const got = await dropOf(drop.id);
    assert.deepEqual(
      [
        got.communityName,
        got.name,
        got.description,
        got.stock,
        got.sold,
        got.remaining,
        got.status,
        got.currency,
        got.perCustomerLimit,
        got.serverTime,
      ],
      ['d_shop', 'Sneakers', 'Limited run', 10, 0, 10, 'scheduled', 'EUR', 2, clock.now()],
    );
    // The status answer is written from a per-drop JSON template: it must read
    // exactly as the schema-serialized answer of POST /drops, escapes included.
    const odd = await newDrop({ name: 'Quote " back\\slash \u2028 ünï 🎉', description: 'line\nbreak\t<tab>' });
    assert.deepEqual(await dropOf(odd.id), odd);
    const t0 = clock.now();
    clock.advance(hour);
    const later = await dropOf(odd.id);
    assert.deepEqual([later.serverTime, later.status, later.remaining], [t0 + hour, 'live', 10]);
    clock.set(t0);
    const missing = await app.request('GET', '/api/v1/drops/no_such_drop');
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'not_found']);
    await newDrop({}, admin);
    const refused = await app.request('POST', '/api/v1/drops', {
      token: outsider,
      body: {
        communityName: 'd_shop',
        name: 'x',
        stock: 1,
        priceCents: 1,
        currency: 'EUR',
        startsAt: 0,
        perCustomerLimit: 1,
      },
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'forbidden');
    const anonymous = await app.request('POST', '/api/v1/drops', {
      body: {
        communityName: 'd_shop',
        name: 'x',
        stock: 1,
        priceCents: 1,
        currency: 'EUR',
        startsAt: 0,
        perCustomerLimit: 1,
      },
    });
    assert.equal(anonymous.status, 401);
    const backwards = await app.request('POST', '/api/v1/drops', {
      token: mod,
      body: {
        communityName: 'd_shop',
        name: 'x',
        stock: 1,
        priceCents: 1,
        currency: 'EUR',
        startsAt: 10,
        endsAt: 5,
        perCustomerLimit: 1,
      },
    });
    assert.deepEqual([backwards.status, backwards.body.error.field], [400, 'endsAt']);
    for (const [field, value] of [
      ['stock', 0],
      ['currency', 'euro'],
      ['perCustomerLimit', 0],
      ['priceCents', -1],
    ] as const) {
      const bad = await app.request('POST', '/api/v1/drops', {
        token: mod,
        body: {
          communityName: 'd_shop',
          name: 'x',
          stock: 1,
          priceCents: 1,
          currency: 'EUR',
          startsAt: 0,
          perCustomerLimit: 1,
          [field]: value,
        },
      });
      assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.field], [400, 'invalid_request', field]);
    }
    assert.equal(
      (
        await app.request('POST', '/api/v1/drops', {
          token: admin,
          body: {
            communityName: 'nowhere',
            name: 'x',
            stock: 1,
            priceCents: 1,
            currency: 'EUR',
            startsAt: 0,
            perCustomerLimit: 1,
          },
        })
      ).status,
      404,
    );
    assert.equal((await app.request('GET', '/api/v1/drops/nope')).status, 404);
  });

  test('orders: 201 pending with amount, expiry and paymentUrl; not started, ended, limit and sold out are 409s', async () => {
    const drop = await newDrop({ stock: 3, startsAt: start + hour, endsAt: start + 3 * hour });
    const early = await order(buyers[0]!, drop.id, 1);
    assert.deepEqual([early.status, early.body.error.code], [409, 'not_started']);
    clock.set(start + hour);
    assert.equal((await dropOf(drop.id)).status, 'live');
    const first = await order(buyers[0]!, drop.id, 2);
    assert.equal(first.status, 201);
    assert.deepEqual(
      [
        first.body.dropId,
        first.body.quantity,
        first.body.status,
        first.body.amountCents,
        first.body.currency,
        first.body.expiresAt,
        first.body.paymentUrl,
      ],
      [drop.id, 2, 'pending', 24_000, 'EUR', clock.now() + 60_000, `https://shop.example/pay/${first.body.id}`],
    );
    const over = await order(buyers[0]!, drop.id, 1);
    assert.deepEqual([over.status, over.body.error.code], [409, 'limit_exceeded']);
    const tooMany = await order(buyers[1]!, drop.id, 2);
    assert.deepEqual([tooMany.status, tooMany.body.error.code], [409, 'sold_out']);
    assert.equal((await order(buyers[1]!, drop.id, 1)).status, 201);
    const after = await dropOf(drop.id);
    assert.deepEqual([after.sold, after.remaining, after.status], [3, 0, 'sold_out']);
    const last = await order(buyers[2]!, drop.id, 1);
    assert.deepEqual([last.status, last.body.error.code], [409, 'sold_out']);
    clock.set(start + 3 * hour);
    assert.equal((await dropOf(drop.id)).status, 'ended');
    const late = await order(buyers[3]!, drop.id, 1);
    assert.deepEqual([late.status, late.body.error.code], [409, 'ended']);
    const missing = await app.request('POST', `/api/v1/drops/${drop.id}/orders`, {
      token: buyers[3],
      body: { quantity: 1 },
    });
    assert.deepEqual([missing.status, missing.body.error.code], [400, 'missing_idempotency_key']);
    const long = await order(buyers[3]!, drop.id, 1, 'k'.repeat(256));
    assert.deepEqual([long.status, long.body.error.code], [400, 'invalid_request']);
    assert.equal((await order(buyers[3]!, 'nope', 1)).status, 404);
    assert.equal(
      (
        await app.request('POST', `/api/v1/drops/${drop.id}/orders`, {
          body: { quantity: 1 },
          headers: { 'idempotency-key': 'x' },
        })
      ).status,
      401,
    );
  });

  test('idempotency keys: the same key and body replay the first answer, even concurrently; another body is 422', async () => {
    const drop = await newDrop({ stock: 5, perCustomerLimit: 5 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => order(buyers[4]!, drop.id, 1, 'same-key')));
    assert.ok(answers.every((a) => a.status === 201));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1, 'one order for one key');
    assert.equal((await dropOf(drop.id)).sold, 1);
    const reused = await order(buyers[4]!, drop.id, 2, 'same-key');
    assert.deepEqual([reused.status, reused.body.error.code], [422, 'idempotency_key_reused']);
    assert.equal((await order(buyers[5]!, drop.id, 1, 'same-key')).status, 201, 'keys belong to their account');
    const refused = await order(buyers[4]!, drop.id, 9, 'big');
    assert.equal(refused.body.error.code, 'limit_exceeded');
    assert.equal(
      (await order(buyers[4]!, drop.id, 9, 'big')).body.error.code,
      'limit_exceeded',
      'a refusal is replayed too',
    );
  });

  test('a stampede never oversells: 8 buyers x 6 concurrent attempts on a stock of 10', async () => {
    const drop = await newDrop({ stock: 10, perCustomerLimit: 3 });
    const value = (metrics: string, line: string) =>
      Number(new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    const counted = [
      'agora_drop_orders_total{outcome="created"}',
      'agora_drop_orders_total{outcome="sold_out"}',
      'agora_drop_orders_total{outcome="limit_exceeded"}',
      'agora_drop_sellouts_total',
      'agora_drop_units_reserved_total',
    ];
    const before = await app.metrics();
    const attempts = buyers.flatMap((token) => Array.from({ length: 6 }, () => order(token, drop.id, 1)));
    const answers = await Promise.all(attempts);
    assert.deepEqual([...new Set(answers.map((a) => a.status))].sort(), [201, 409]);
    assert.equal(answers.filter((a) => a.status === 201).length, 10);
    const state = await dropOf(drop.id);
    assert.deepEqual([state.sold, state.remaining, state.status], [10, 0, 'sold_out']);
    // Requests decided in one batch count the earlier ones of the same buyer against the limit.
    for (const token of buyers) {
      const mine = (await app.request('GET', '/api/v1/me/orders?limit=100', { token })).body.items.filter(
        (o: { dropId: string }) => o.dropId === drop.id,
      );
      assert.ok(mine.length <= 3, `a buyer holds ${mine.length} > 3`);
    }
    const after = await app.metrics();
    const [created, soldOut, overLimit, sellouts, reserved] = counted.map((l) => value(after, l) - value(before, l));
    assert.deepEqual(
      { created, refused: (soldOut ?? 0) + (overLimit ?? 0), sellouts, reserved },
      { created: 10, refused: 38, sellouts: 1, reserved: 10 },
      'this stampede moved the counters by exactly its outcomes',
    );
  });

  test('cancel (buyer only, pending only) and expiry give the units back; an expired order never reads as pending', async () => {
    const earlier = (await order(buyers[7]!, (await newDrop({ stock: 1 })).id, 1)).body;
    const drop = await newDrop({ stock: 2, perCustomerLimit: 2 });
    const mine = (await order(buyers[6]!, drop.id, 1)).body;
    assert.equal(
      (await app.request('POST', `/api/v1/orders/${mine.id}/cancellation`, { token: buyers[7] })).status,
      404,
      "another buyer's order is as unknown as none",
    );
    assert.equal((await app.request('GET', `/api/v1/orders/${mine.id}`, { token: buyers[7] })).status, 404);
    const cancelled = await app.request('POST', `/api/v1/orders/${mine.id}/cancellation`, { token: buyers[6] });
    assert.deepEqual([cancelled.status, cancelled.body.status], [200, 'cancelled']);
    assert.equal((await dropOf(drop.id)).remaining, 2);
    const again = await app.request('POST', `/api/v1/orders/${mine.id}/cancellation`, { token: buyers[6] });
    assert.deepEqual([again.status, again.body.error.code], [409, 'order_not_pending']);

    const held = (await order(buyers[7]!, drop.id, 2)).body;
    assert.equal((await dropOf(drop.id)).status, 'sold_out');
    clock.set(clock.now() + 60_000); // past the order's expiry, without a sweep
    assert.equal(
      (await app.request('GET', `/api/v1/orders/${held.id}`, { token: buyers[7] })).body.status,
      'expired',
      'at once, before the sweep',
    );
    assert.equal((await dropOf(drop.id)).remaining, 0, 'the units wait for the sweep');
    await clock.advance(500); // the sweeper's beat
    const state = await dropOf(drop.id);
    assert.deepEqual([state.remaining, state.status], [2, 'live'], 'the sweep gives the units back');
    const expiredCancel = await app.request('POST', `/api/v1/orders/${held.id}/cancellation`, { token: buyers[7] });
    assert.equal(expiredCancel.body.error.code, 'order_not_pending');
    const list = await app.request('GET', '/api/v1/me/orders?limit=1', { token: buyers[7] });
    assert.deepEqual(
      list.body.items.map((o: { id: string; status: string }) => [o.id, o.status]),
      [[held.id, 'expired']],
    );
    const rest = await app.request('GET', `/api/v1/me/orders?limit=100&cursor=${list.body.nextCursor}`, {
      token: buyers[7],
    });
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.ok(
      rest.body.items.every((o: { id: string }) => o.id < held.id),
      'newest first, no repeats',
    );
    assert.equal(rest.body.items[0].id, earlier.id);
  });

  test('payment webhook: forged, stale, duplicate, wrong amount and late payments change nothing they should not', async () => {
    const drop = await newDrop({ stock: 5, perCustomerLimit: 5 });
    const send = (event: unknown, opts: { secret?: string; at?: number; raw?: string; header?: string } = {}) => {
      const raw = opts.raw ?? JSON.stringify(event);
      const t = Math.floor((opts.at ?? clock.now()) / 1000);
      const header = opts.header ?? `t=${t},v1=${signPayload(opts.secret ?? SECRET, t, raw)}`;
      return app.request('POST', '/api/v1/payments/webhook', {
        raw,
        headers: { 'content-type': 'application/json', 'agora-signature': header },
      });
    };
    const statusOf = async (id: string, token: string) =>
      (await app.request('GET', `/api/v1/orders/${id}`, { token })).body.status;
    const o = (await order(buyers[0]!, drop.id, 2)).body;
    const paid = { id: 'evt_1', type: 'payment.succeeded', data: { orderId: o.id, amountCents: o.amountCents } };

    for (const [what, res] of [
      ['wrong secret', await send(paid, { secret: 'not-the-secret' })],
      ['stale', await send(paid, { at: clock.now() - 6 * 60_000 })],
      ['from the future', await send(paid, { at: clock.now() + 6 * 60_000 })],
      ['no header', await send(paid, { header: '' })],
      ['garbage header', await send(paid, { header: 't=abc,v1=zz' })],
      [
        'body changed after signing',
        await send(paid, {
          header: `t=${Math.floor(clock.now() / 1000)},v1=${signPayload(SECRET, Math.floor(clock.now() / 1000), '{}')}`,
        }),
      ],
    ] as const) {
      assert.deepEqual([res.status, res.body.error?.code], [400, 'invalid_signature'], what);
    }
    assert.equal(await statusOf(o.id, buyers[0]!), 'pending', 'nothing changed');

    const short = await send({
      id: 'evt_short',
      type: 'payment.succeeded',
      data: { orderId: o.id, amountCents: o.amountCents - 1 },
    });
    assert.deepEqual([short.status, short.body.outcome], [200, 'amount_mismatch']);
    assert.equal(await statusOf(o.id, buyers[0]!), 'pending');
    const failed = await send({
      id: 'evt_failed',
      type: 'payment.failed',
      data: { orderId: o.id, amountCents: o.amountCents },
    });
    assert.deepEqual([failed.status, failed.body.outcome], [200, 'failed']);

    const ok = await send(paid, { at: clock.now() - 4 * 60_000 });
    assert.deepEqual([ok.status, ok.body.outcome], [200, 'paid'], 'within the five-minute tolerance');
    assert.equal(await statusOf(o.id, buyers[0]!), 'paid');
    const again = await send(paid);
    assert.deepEqual([again.status, again.body.outcome], [200, 'duplicate']);
    const twice = await send({ ...paid, id: 'evt_2' });
    assert.deepEqual(
      [twice.status, twice.body.outcome],
      [200, 'refund_due'],
      'a second payment for a paid order is refunded',
    );
    clock.advance(3600_000);
    assert.equal(await statusOf(o.id, buyers[0]!), 'paid', 'a paid order never expires');
    assert.equal((await dropOf(drop.id)).sold, 2, 'paid units stay sold');

    const late = (await order(buyers[1]!, drop.id, 1)).body;
    clock.advance(61_000);
    const latePaid = await send({
      id: 'evt_late',
      type: 'payment.succeeded',
      data: { orderId: late.id, amountCents: late.amountCents },
    });
    assert.deepEqual([latePaid.status, latePaid.body.outcome], [200, 'refund_due']);
    assert.equal(await statusOf(late.id, buyers[1]!), 'expired', 'a late payment never resurrects an order');
    assert.equal((await dropOf(drop.id)).sold, 2, 'its unit went back');
    const unknown = await send({
      id: 'evt_unknown',
      type: 'payment.succeeded',
      data: { orderId: 'nope', amountCents: 1 },
    });
    assert.deepEqual([unknown.status, unknown.body.outcome], [200, 'unknown_order']);
    const badJson = await send(null, { raw: '{"id":' });
    assert.equal(badJson.status, 400);
  });

  test('lists: live drops (not sold out, started, not ended) and scheduled ones, soonest first', async () => {
    const soon = await newDrop({ name: 'soon', startsAt: clock.now() + hour });
    const later = await newDrop({ name: 'later', startsAt: clock.now() + 2 * hour });
    const live = await newDrop({ name: 'live now' });
    const scheduled = (await app.request('GET', '/api/v1/drops?status=scheduled')).body.items.map(
      (d: { id: string }) => d.id,
    );
    assert.deepEqual(scheduled.slice(0, 2), [soon.id, later.id]);
    const liveIds: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: { body: { items: { id: string; status: string }[]; nextCursor: string | null } } = await app.request(
        'GET',
        `/api/v1/drops?status=live&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.ok(page.body.items.every((d) => d.status === 'live'));
      liveIds.push(...page.body.items.map((d) => d.id));
      cursor = page.body.nextCursor;
    }
    assert.ok(liveIds.includes(live.id));
    assert.ok(!liveIds.includes(soon.id));
    assert.equal(new Set(liveIds).size, liveIds.length);
  });
});
