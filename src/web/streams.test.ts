import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { describeStores, type StoreKind } from '../../test/support/stores.js';

/** An open event stream: its events as they come, and the way to close it. */
async function openStream(base: string, path: string) {
  const controller = new AbortController();
  const answer = await fetch(base + path, { signal: controller.signal });
  const events: { remaining: number; status: string }[] = [];
  let waiters: (() => void)[] = [];
  if (answer.ok && answer.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split('\n').find((l) => l.startsWith('data: '));
            if (block.includes('event: stock') && data) events.push(JSON.parse(data.slice(6)));
            for (const w of waiters) w();
            waiters = [];
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return {
    answer,
    events,
    async until(check: () => boolean, ms = 5000) {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error(`no such event within ${ms} ms: ${JSON.stringify(events)}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 100))]);
      }
    },
    /** Aborts the request; an answer that was refused has its body read instead. */
    async close() {
      if (answer.ok) controller.abort();
      else await answer.text();
    },
  };
}

describeStores('drop pages: live stock streams', (kind: StoreKind) => {
  let app: TestApp;
  let token: string;
  let dropId: string;
  before(async () => {
    app = await startTestApp(kind, { AGORA_LIVE_STREAMS_PER_CLIENT: '3' });
    await app.request('POST', '/api/v1/accounts', { body: { username: 'seller', password: 'a good long password' } });
    token = (
      await app.request('POST', '/api/v1/sessions', { body: { username: 'seller', password: 'a good long password' } })
    ).body.token;
    await app.request('POST', '/api/v1/communities', { token, body: { name: 'shop', title: 'Shop' } });
    const drop = await app.request('POST', '/api/v1/drops', {
      token,
      body: {
        communityName: 'shop',
        name: 'Seeds',
        stock: 5,
        priceCents: 100,
        currency: 'EUR',
        startsAt: Date.now(),
        perCustomerLimit: 5,
      },
    });
    assert.equal(drop.status, 201);
    dropId = drop.body.id;
  });
  after(() => app?.close());

  test('every open stream gets the stock at once and after each sale; a cancellation too', async () => {
    const streams = await Promise.all([0, 1, 2].map(() => openStream(app.base, `/drops/${dropId}/stream`)));
    try {
      for (const s of streams) {
        assert.equal(s.answer.status, 200);
        assert.match(s.answer.headers.get('content-type') ?? '', /^text\/event-stream/);
        await s.until(() => s.events.length >= 1);
        assert.equal(s.events[0]!.remaining, 5);
      }
      const order = await app.request('POST', `/api/v1/drops/${dropId}/orders`, {
        token,
        headers: { 'idempotency-key': 'one' },
        body: { quantity: 2 },
      });
      assert.equal(order.status, 201);
      for (const s of streams) await s.until(() => s.events.at(-1)?.remaining === 3);
      assert.equal((await app.request('POST', `/api/v1/orders/${order.body.id}/cancellation`, { token })).status, 200);
      for (const s of streams) await s.until(() => s.events.at(-1)?.remaining === 5);
    } finally {
      for (const s of streams) await s.close();
    }
  });

  /** Three streams of the drop, once the streams closed before are counted out (their close reaches the server a moment later). */
  async function openThree() {
    for (let attempt = 0; ; attempt++) {
      const streams = await Promise.all([0, 1, 2].map(() => openStream(app.base, `/drops/${dropId}/stream`)));
      if (streams.every((s) => s.answer.status === 200) || attempt === 50) return streams;
      for (const s of streams) await s.close();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('a client past its number of streams is refused with 429; an unknown drop is a 404 page; both leave nothing open', async () => {
    const streams = await openThree();
    try {
      assert.deepEqual(
        streams.map((s) => s.answer.status),
        [200, 200, 200],
      );
      const fourth = await fetch(`${app.base}/drops/${dropId}/stream`);
      assert.equal(fourth.status, 429);
      assert.match(fourth.headers.get('content-type') ?? '', /text\/html/);
      await fourth.text();
    } finally {
      for (const s of streams) await s.close();
    }
    const unknown = await fetch(`${app.base}/drops/01NOSUCHDROP0000000000000/stream`);
    assert.equal(unknown.status, 404);
    await unknown.text();
    // The closed streams are counted out: the client may open three again.
    const again = await openThree();
    try {
      assert.deepEqual(
        again.map((s) => s.answer.status),
        [200, 200, 200],
      );
    } finally {
      for (const s of again) await s.close();
    }
  });
});
