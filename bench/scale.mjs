// Past one machine, on this one: a PostgreSQL primary and a streaming replica (started here),
// and in one run, each load alternated with its reference for --rounds rounds (medians):
//   thread    GET /api/v1/posts/:id/comments (a 1,000-comment thread; its catch-up may be behind)
//   profile   GET /api/v1/accounts/:name/comments (a read that may be behind)
//   drop mix  94 % GET /drops/:id, 6 % POST /drops/:id/orders by 200 signed-in buyers
// against: one process (web and worker) / two web processes (the connections split between
// them, a wrk each, figures summed) beside a worker; and for the thread and profile reads, one
// process reading from the primary / one reading from the replica (AGORA_DATABASE_REPLICA_URLS).
//   node bench/scale.mjs [--duration 10] [--connections 50] [--rounds 3]
import pg from 'pg';
import { startPostgres, startReplica } from '../scripts/pg-server.mjs';
import { seedComments } from './comments-data.mjs';
import {
  METRICS_TOKEN,
  alternate,
  api,
  createDatabase,
  dropMixScript,
  ensureWrk,
  parseArgs,
  startServer,
  wrk,
  wrkAsync,
} from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { duration: 10, connections: 50, rounds: 3 });
ensureWrk();
const primary = await startPostgres({ tuning: { shared_buffers: '512MB' } });
const stops = [() => primary.stop()];
const lines = [];
const say = (line) => {
  console.log(line);
  lines.push(line);
};
try {
  const url = await createDatabase(primary.url, 'agora_scale');
  console.log('[bench] seeding ...');
  const data = await seedComments(url, { sizes: [1_000], users: 300, signedIn: 201 });
  const replica = await startReplica(primary.url);
  stops.unshift(() => replica.stop());
  const replicaUrl = Object.assign(new URL(replica.url), { pathname: '/agora_scale' }).toString();

  const base = { AGORA_DATABASE_URL: url, AGORA_ORDER_PENDING_PER_ACCOUNT: '1000', AGORA_PG_POOL_SIZE: '20' };
  const start = async (env) => {
    const server = await startServer({ ...base, ...env });
    stops.unshift(() => server.stop());
    return server.base;
  };
  const one = await start({ AGORA_ROLES: 'web,worker' });
  const twoWeb = [await start({ AGORA_ROLES: 'web' }), await start({ AGORA_ROLES: 'web' })];
  const onReplica = await start({ AGORA_ROLES: 'web', AGORA_DATABASE_REPLICA_URLS: replicaUrl });

  // The drop the mix buys from, and a profile with comments.
  const [owner, ...buyers] = data.tokens;
  await api(one, 'POST', '/api/v1/communities', { name: 'scale_shop', title: 'Shop' }, owner);
  const drop = await api(
    one,
    'POST',
    '/api/v1/drops',
    {
      communityName: 'scale_shop',
      name: 'Scale',
      stock: 10_000_000,
      priceCents: 100,
      currency: 'EUR',
      startsAt: Date.now(),
      perCustomerLimit: 1_000_000,
    },
    owner,
  );
  const client = new pg.Client(url);
  await client.connect();
  const author = (
    await client.query(
      'SELECT a.username FROM comments c JOIN accounts a ON a.id = c.author_id GROUP BY a.username ORDER BY count(*) DESC LIMIT 1',
    )
  ).rows[0].username;
  await client.end();
  // The replica has replayed the seed and the drop before the runs (the reads must find them).
  for (let i = 0; ; i++) {
    const health = await (
      await fetch(`${onReplica}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    if (/^agora_replica_healthy\{[^}]*\} 1$/m.test(health)) break;
    if (i > 200) throw new Error('the replica did not come into rotation');
    await new Promise((r) => setTimeout(r, 100));
  }

  const post = data.posts[0];
  const mix = dropMixScript('scale', drop.id, buyers);

  const loads = [
    { name: 'thread reads', path: `/api/v1/posts/${post.id}/comments?limit=100` },
    { name: `profile reads (${author}'s comments)`, path: `/api/v1/accounts/${author}/comments?limit=25` },
    { name: 'drop mix', path: `/api/v1/drops/${drop.id}`, script: mix },
  ];
  const run = (host, load, connections) =>
    wrk(host + load.path, { connections, duration: opts.duration, ...(load.script ? { script: load.script } : {}) });
  /** Both web processes at once, half the connections each: throughput summed, the worse p99. */
  const runTwo = async (load) => {
    const half = Math.max(1, Math.round(opts.connections / 2));
    const rs = await Promise.all(
      twoWeb.map((host) =>
        wrkAsync(host + load.path, {
          connections: half,
          duration: opts.duration,
          ...(load.script ? { script: load.script } : {}),
        }),
      ),
    );
    return {
      rps: rs[0].rps + rs[1].rps,
      p50: Math.max(rs[0].p50, rs[1].p50),
      p99: Math.max(rs[0].p99, rs[1].p99),
      non2xx: rs[0].non2xx + rs[1].non2xx,
    };
  };
  const fmt = (r) => `${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}`;

  // Two processes are measured by awaiting two wrk runs; alternate takes functions returning figures.
  const alternateAsync = async (rounds, fns) => {
    const runs = fns.map(() => []);
    for (let round = 0; round < rounds; round++) for (const [i, fn] of fns.entries()) runs[i].push(await fn());
    return runs.map((list) => [...list].sort((a, b) => a.rps - b.rps)[Math.floor(list.length / 2)]);
  };

  for (const load of loads) {
    run(one, load, opts.connections); // warm-up
    const [single, double] = await alternateAsync(opts.rounds, [
      () => run(one, load, opts.connections),
      () => runTwo(load),
    ]);
    say(`${load.name}, 1 web process: ${fmt(single)}`);
    say(`${load.name}, 2 web processes: ${fmt(double)}`);
    say(
      `${load.name}: 2 web processes / 1 = ${(double.rps / single.rps).toFixed(2)} (throughput), p99 ${(double.p99 / single.p99).toFixed(2)}`,
    );
  }
  // Reads that may be behind, from the primary against from the replica: a thread's catch-up
  // (its kept tree reads the changes since on each read) and a profile's listing.
  for (const load of loads.slice(0, 2)) {
    run(onReplica, load, opts.connections);
    const [fromPrimary, fromReplica] = alternate(opts.rounds, [
      () => run(one, load, opts.connections),
      () => run(onReplica, load, opts.connections),
    ]).map((x) => x.median);
    say(`${load.name} on the primary: ${fmt(fromPrimary)}`);
    say(`${load.name} on the replica: ${fmt(fromReplica)}`);
    say(
      `${load.name.split(' ')[0]} reads: replica / primary = ${(fromReplica.rps / fromPrimary.rps).toFixed(2)} (throughput), p99 ${(fromReplica.p99 / fromPrimary.p99).toFixed(2)}`,
    );
  }
  console.log(`\n${lines.join('\n')}`);
  console.log(
    "\n(one machine, two cores: the processes, PostgreSQL's primary and replica and wrk share them; the shape, not the scaling)",
  );
} finally {
  for (const stop of stops) await stop();
}
