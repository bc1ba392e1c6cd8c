import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import { signPayload } from '../drops/index.js';
import { createManualClock } from '../../platform/clock.js';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { describeStores } from '../../../test/support/stores.js';

const SECRET = 'whsec_mail_test';

/** A real SMTP server on a free port that keeps what it accepts, and can be told to refuse. */
async function startSmtp() {
  const received: { to: string[]; raw: string }[] = [];
  const state = { refusing: false, refused: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        if (state.refusing && ++state.refused)
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    received,
    state,
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeStores('order e-mails through the outbox', (kind) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  // Retries and polls happen only when the test moves the clock; mail sent after a commit goes at once.
  const clock = createManualClock(Date.now());
  let app: TestApp;
  let admin: string;
  let dropId: string;

  const account = async (username: string, email?: string) => {
    await app.request('POST', '/api/v1/accounts', {
      body: { username, password: 'correct horse', ...(email ? { email } : {}) },
    });
    return (await app.request('POST', '/api/v1/sessions', { body: { username, password: 'correct horse' } })).body
      .token as string;
  };
  let keys = 0;
  const order = async (token: string) => {
    const res = await app.request('POST', `/api/v1/drops/${dropId}/orders`, {
      token,
      body: { quantity: 1 },
      headers: { 'idempotency-key': `m-${keys++}` },
    });
    assert.equal(res.status, 201);
    return res.body as { id: string; amountCents: number; paymentUrl: string };
  };
  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));
  const waitFor = async (what: () => boolean, ms: number) => {
    for (const until = Date.now() + ms; Date.now() < until && !what();) await sleep(25);
    return what();
  };

  before(async () => {
    smtp = await startSmtp();
    app = await startTestApp(
      kind,
      {
        AGORA_SMTP_URL: smtp.url,
        AGORA_PAYMENT_WEBHOOK_SECRET: SECRET,
        AGORA_OUTBOX_POLL_MS: '100',
      },
      clock,
    );
    admin = await account('n_admin');
    await app.request('POST', '/api/v1/communities', { token: admin, body: { name: 'n_shop', title: 'Shop' } });
    const drop = await app.request('POST', '/api/v1/drops', {
      token: admin,
      body: {
        communityName: 'n_shop',
        name: 'Mailable Boots',
        stock: 10,
        priceCents: 4200,
        currency: 'EUR',
        startsAt: 0,
        perCustomerLimit: 5,
      },
    });
    dropId = drop.body.id;
  });
  after(async () => {
    await app.close();
    await smtp.close();
  });

  test('an order confirmation with the payment link, then a receipt once paid', async () => {
    const buyer = await account('n_buyer', 'buyer@example.com');
    const o = await order(buyer);
    assert.ok(await waitFor(() => mailsTo('buyer@example.com').length === 1, 5000), 'the confirmation arrives');
    const confirmation = mailsTo('buyer@example.com')[0]!.raw;
    assert.match(confirmation, /Subject: Your order for Mailable Boots/);
    assert.ok(confirmation.includes(o.id) && confirmation.includes('42.00 EUR'));
    assert.ok(confirmation.replace(/=\r\n/g, '').includes(o.paymentUrl));

    const raw = JSON.stringify({
      id: `evt_${o.id}`,
      type: 'payment.succeeded',
      data: { orderId: o.id, amountCents: o.amountCents },
    });
    const t = Math.floor(Date.now() / 1000);
    const paid = await app.request('POST', '/api/v1/payments/webhook', {
      raw,
      headers: { 'content-type': 'application/json', 'agora-signature': `t=${t},v1=${signPayload(SECRET, t, raw)}` },
    });
    assert.equal(paid.body.outcome, 'paid');
    assert.ok(await waitFor(() => mailsTo('buyer@example.com').length === 2, 5000), 'the receipt arrives');
    assert.match(mailsTo('buyer@example.com')[1]!.raw, /Subject: Receipt: Mailable Boots/);
  });

  test('a refusing mail server never affects the order; the mail goes out once it accepts again', async () => {
    const buyer = await account('n_patient', 'patient@example.com');
    smtp.state.refusing = true;
    const refusedBefore = smtp.state.refused;
    const o = await order(buyer);
    assert.equal((await app.request('GET', `/api/v1/orders/${o.id}`, { token: buyer })).body.status, 'pending');
    assert.ok(await waitFor(() => smtp.state.refused === refusedBefore + 1, 5000), 'the first attempt is refused');
    await app.agora.outbox.idle(); // the failure is written with its retry time
    await clock.advance(500);
    assert.equal(smtp.state.refused, refusedBefore + 1, 'no retry before the backoff (1 s)');
    await app.agora.outbox.idle();
    await clock.advance(1_000); // the retry is due 1–1.1 s after the failure
    await app.agora.outbox.idle();
    if (smtp.state.refused === refusedBefore + 1) await clock.advance(100); // the jitter
    assert.ok(await waitFor(() => smtp.state.refused === refusedBefore + 2, 5000), 'retried after the backoff');
    assert.equal(mailsTo('patient@example.com').length, 0);
    assert.equal((await app.request('GET', `/api/v1/orders/${o.id}`, { token: buyer })).body.status, 'pending');
    smtp.state.refusing = false;
    await app.agora.outbox.idle();
    await clock.advance(60_000);
    assert.ok(
      await waitFor(() => mailsTo('patient@example.com').length === 1, 5000),
      'retried with backoff and delivered',
    );
  });

  test('an account without an e-mail address gets no mail, and its order stands', async () => {
    const buyer = await account('n_silent');
    const before = smtp.received.length;
    const o = await order(buyer);
    const witness = await account('n_witness', 'witness@example.com');
    await order(witness);
    assert.ok(await waitFor(() => mailsTo('witness@example.com').length === 1, 5000));
    assert.equal(smtp.received.length, before + 1, 'only the witness was mailed');
    assert.equal((await app.request('GET', `/api/v1/orders/${o.id}`, { token: buyer })).body.status, 'pending');
  });
});
