// The drop-opening mix (issue 4): 94 % GET /drops/:id, 6 % POST /drops/:id/orders
// by 100 signed-in buyers with fresh idempotency keys; wrk, 1 thread, 50
// connections, default config with AGORA_RATE_LIMIT=off. Then an open-model
// run at a fixed arrival rate (autocannon -R) for the tail.
// The same wrk run against bench/drops-reference.mjs (the bare
// Fastify + better-sqlite3 server) comes first, for a ratio from one run.
//   node bench/drops.mjs [--store sqlite|postgres] [--duration 10] [--connections 50] [--rate 20000] [--reference yes|no]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { METRICS_TOKEN, ROOT, api, benchStore, dropMixScript, ensureWrk, parseArgs, startServer, wrk } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), {
  store: 'sqlite',
  duration: 10,
  connections: 50,
  rate: 20_000,
  reference: 'yes',
});
const BUYERS = 100;
ensureWrk();
const store = await benchStore(opts.store);
const tokens = await seedBuyers(store.url);
// The mix's 100 buyers hold thousands of unpaid orders: without a higher cap most of them
// would be refused as too_many_pending, a cheaper answer than the order this measures.
const server = await startServer({
  AGORA_DATABASE_URL: store.url,
  AGORA_OUTBOX_POLL_MS: '500',
  AGORA_ORDER_PENDING_PER_ACCOUNT: '1000',
});

/** The admin and 100 buyers with sessions, inserted through the Store port (sign-ups would only measure scrypt). */
async function seedBuyers(url) {
  const { seedSignedIn } = await import(join(ROOT, 'dist/test/support/seed.js'));
  const names = ['bench_admin', ...Array.from({ length: BUYERS }, (_, i) => `buyer_${i + 1}`)];
  return seedSignedIn(url, names, (name) => `${name}@example.com`);
}

/** The same wrk run against bench/drops-reference.mjs, started and stopped here. */
async function runReference(script, dropId) {
  const dir = mkdtempSync(join(tmpdir(), 'agora-drops-reference-'));
  const child = spawn(process.execPath, [join(ROOT, 'bench/drops-reference.mjs'), join(dir, 'reference.db'), dropId], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const base = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.on('exit', (code) => reject(new Error(`reference server exited with ${code}`)));
    });
    wrk(base, { connections: opts.connections, duration: 2, script });
    const res = wrk(base, { connections: opts.connections, duration: opts.duration, script });
    console.log(`--- reference: the same mix against bench/drops-reference.mjs\n${res.out}`);
    return res;
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function openModel(base, dropId, buyers) {
  let n = 0;
  const result = await autocannon({
    url: base,
    connections: opts.connections,
    duration: opts.duration,
    overallRate: opts.rate,
    requests: [
      {
        setupRequest: (req) => {
          n++;
          if (n % 50 < 3) {
            return {
              ...req,
              method: 'POST',
              path: `/api/v1/drops/${dropId}/orders`,
              headers: {
                authorization: `Bearer ${buyers[n % buyers.length]}`,
                'content-type': 'application/json',
                'idempotency-key': `open-${n}`,
              },
              body: '{"quantity":1}',
            };
          }
          return { ...req, method: 'GET', path: `/api/v1/drops/${dropId}` };
        },
      },
    ],
  });
  return result;
}

try {
  const [admin, ...buyers] = tokens;
  await api(server.base, 'POST', '/api/v1/communities', { name: 'bench_shop', title: 'Bench shop' }, admin);
  const drop = await api(
    server.base,
    'POST',
    '/api/v1/drops',
    {
      communityName: 'bench_shop',
      name: 'Benchmark drop',
      stock: 1_000_000_000,
      priceCents: 5000,
      currency: 'USD',
      startsAt: 0,
      perCustomerLimit: 1_000_000,
    },
    admin,
  );
  const script = dropMixScript('bench', drop.id, buyers);
  const reference = opts.reference === 'yes' ? await runReference(script, drop.id) : null;
  wrk(server.base, { connections: opts.connections, duration: 2, script }); // warm-up
  const res = wrk(server.base, { connections: opts.connections, duration: opts.duration, script });
  console.log(
    `--- 94 % GET /api/v1/drops/:id, 6 % POST /api/v1/drops/:id/orders (${opts.store}, wrk, ${opts.connections} connections)\n${res.out}`,
  );
  if (reference) {
    console.log(
      `reference (bare Fastify + better-sqlite3, status read + conditional increment only): ${reference.rps.toFixed(0)} req/s, p50 ${reference.p50} ms, p99 ${reference.p99} ms; ` +
        `agora ${opts.store} / reference = ${((100 * res.rps) / reference.rps).toFixed(1)} %`,
    );
  }
  const after = await api(server.base, 'GET', `/api/v1/drops/${drop.id}`);
  const goal = opts.store === 'sqlite' ? [50_000, 10] : [15_000, 20];
  console.log(
    `drops mix ${opts.store}: ${res.rps.toFixed(0)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, non-2xx ${res.non2xx}; ` +
      `units sold ${after.sold} (goal >= ${goal[0]} req/s, p99 <= ${goal[1]} ms: ${res.rps >= goal[0] && res.p99 <= goal[1] && res.non2xx === 0 ? 'met' : 'NOT met'})`,
  );
  const open = await openModel(server.base, drop.id, buyers);
  const l = open.latency;
  console.log(
    `--- open model at ${opts.rate} req/s (autocannon -R, ${opts.connections} connections, ${opts.duration} s)\n` +
      `requests ${open.requests.total}, ${open.requests.average} req/s average, non-2xx ${open.non2xx}, errors ${open.errors}, timeouts ${open.timeouts}\n` +
      `latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, p99.9 ${l.p99_9 ?? l['p99.9'] ?? '?'} ms, max ${l.max} ms`,
  );
  if (opts.store === 'sqlite')
    console.log(`open model sqlite: p99 ${l.p99} ms (goal <= 5 ms: ${l.p99 <= 5 ? 'met' : 'NOT met'})`);
  const metrics = await (
    await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  console.log(
    '--- mail queue (outbox) afterwards\n' +
      metrics
        .split('\n')
        .filter((line) => /^agora_outbox_(backlog|oldest|failed)/.test(line))
        .join('\n'),
  );
} finally {
  await server.stop();
  store.stop();
}
