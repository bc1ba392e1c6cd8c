// The live migration's backfill against pgloader, in one run: a SQLite site
// of 1,000,000 comments (bench/comments-data.mjs: real bodies, threads of
// 10,000, the authors' votes) is copied to PostgreSQL by Agora while it serves
// thread reads (at a fixed rate, --load × the capacity measured first), and by
// pgloader (Debian's package) offline into a fresh database. Rounds alternate the two (a fresh database each); medians.
// Printed: rows/s of each and their ratio, and the site's read p50/p99 at rest
// and during Agora's copy (goal: rows/s ≥ pgloader's, p99 within 2× of rest).
//   node bench/backfill.mjs [--comments 1000000] [--per-thread 10000] [--rounds 1] [--rest 10] [--connections 10] [--load 0.25]
//                           [--postgres postgres://user:password@host:5432/postgres]
// --postgres: the target is a PostgreSQL server already running — on another machine, as in a real move — instead of
// one started on this one beside the site; each round makes its databases there. Its CPU is then not counted.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { startPostgres } from '../scripts/pg-server.mjs';
import { seedComments } from './comments-data.mjs';
import {
  METRICS_TOKEN,
  atRate,
  ROOT,
  api,
  benchStore,
  cpuSeconds,
  createDatabase,
  ensureTool,
  makeAdmin,
  parseArgs,
  startServer,
} from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), {
  comments: 1_000_000,
  perThread: 10_000,
  rounds: 1,
  rest: 10,
  connections: 10,
  load: 0.25,
  postgres: '',
});

ensureTool('pgloader');

const postgres = opts.postgres
  ? { url: opts.postgres, pid: null, stop() {} }
  : await startPostgres({ tuning: { shared_buffers: '512MB' } });
const database = (name) => createDatabase(postgres.url, name);
const countRows = async (url, tables) => {
  const client = new pg.Client(url);
  await client.connect();
  let n = 0;
  for (const t of tables) n += Number((await client.query(`SELECT COUNT(*) AS n FROM ${t}`)).rows[0].n);
  await client.end();
  return n;
};

const source = await benchStore('sqlite');
const sizes = Array.from({ length: Math.ceil(opts.comments / opts.perThread) }, () => opts.perThread);
console.error(`[backfill] seeding ${opts.comments.toLocaleString('en')} comments …`);
const seeded = await seedComments(source.url, { sizes, signedIn: 1 });
const file = source.url.slice('sqlite:'.length);
await makeAdmin(source.url, 'cuser_00001');
const admin = seeded.tokens[0];
console.error(`[backfill] seeded in ${seeded.seconds.toFixed(0)} s`);

const server = await startServer({ AGORA_DATABASE_URL: source.url });
const paths = seeded.posts.slice(0, 20).map((p) => `/api/v1/posts/${p.id}/comments?limit=50`);
const readers = (duration, overallRate) =>
  atRate(autocannon, {
    url: server.base,
    connections: opts.connections,
    duration,
    overallRate,
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
/** The run's figures: latencies corrected at the connections' real request interval (lib.mjs, `atRate`). */
const figures = (reading, r) => ({ rps: r.requests.average, ...reading.latency(), non2xx: r.non2xx });
// Warm-up (the threads' trees in memory) and the site's capacity; the reads then come at a fixed rate, a share of
// it, the same at rest and during the copy (a closed loop at full speed would measure only who gets the CPU).
const capacity = (
  await autocannon({
    url: server.base,
    connections: opts.connections,
    duration: 5,
    requests: paths.map((path) => ({ method: 'GET', path })),
  })
).requests.average;
const rate = Math.max(100, Math.round(capacity * opts.load));
console.error(`[backfill] thread reads: capacity ${Math.round(capacity)} req/s, reading at ${rate} req/s`);

const tables = [
  'accounts',
  'communities',
  'community_moderators',
  'posts',
  'comments',
  'votes',
  'sessions',
  'site_secrets',
];
// CPU seconds of each part: the site's process (the copy runs in it), this process (the load generator; with
// `reaped`, pgloader, which it runs and waits for) and the PostgreSQL server with its backends.
const cpuNow = () => ({
  site: cpuSeconds(server.child.pid),
  siteMain: cpuSeconds(server.child.pid, { thread: server.child.pid }),
  bench: cpuSeconds(process.pid, { reaped: true }),
  postgres: postgres.pid ? cpuSeconds(postgres.pid, { reaped: true, tree: true }) : 0,
});
const cpuSince = (before) => Object.fromEntries(Object.entries(cpuNow()).map(([k, v]) => [k, v - before[k]]));
// The site's own view of the copy, from its /metrics: event-loop delay (since the previous scrape), time in GC, and
// the thread reads' share answered within 10 ms inside the process.
const scrape = async () => {
  const text = await (
    await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const value = (re) =>
    text
      .split('\n')
      .filter((l) => re.test(l))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return {
    loopMax: value(/^agora_event_loop_delay_max_seconds /),
    loopP99: value(/^agora_event_loop_delay_p99_seconds /),
    gc: value(/^nodejs_gc_duration_seconds_sum/),
    reads: value(/^agora_http_request_duration_seconds_count\{.*comments/),
    fast: value(/^agora_http_request_duration_seconds_bucket\{(?=.*le="0\.01")(?=.*comments)/),
  };
};
const insideLine = (a, b) =>
  `event loop delay max ${(b.loopMax * 1000).toFixed(0)} ms, p99 ${(b.loopP99 * 1000).toFixed(0)} ms; GC ${(b.gc - a.gc).toFixed(2)} s; reads within 10 ms in the process ${(((b.fast - a.fast) / Math.max(1, b.reads - a.reads)) * 100).toFixed(2)} %`;
const rounds = { agora: [], pgloader: [], rest: [], during: [] };
for (let round = 1; round <= opts.rounds; round++) {
  const restCpu = cpuNow();
  const restStarted = performance.now();
  const resting = readers(opts.rest, rate);
  const atRest = figures(resting, await resting);
  rounds.rest.push({
    ...atRest,
    mainPerSecond: cpuSince(restCpu).siteMain / ((performance.now() - restStarted) / 1000),
  });

  // pgloader, offline: the site is not read meanwhile.
  const pgl = await database(`pgloader_${round}`);
  const load = join(ROOT, '.bench', `pgloader-${process.pid}.load`);
  writeFileSync(
    load,
    `LOAD DATABASE FROM sqlite://${file} INTO ${pgl}
WITH include drop, create tables, create indexes, reset sequences
EXCLUDING TABLE NAMES LIKE 'search_fts%', 'migration_%', 'schema_migrations';
`,
  );
  let cpu = cpuNow();
  let started = performance.now();
  const run = spawnSync('pgloader', ['--quiet', '--dynamic-space-size', '4096', load], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const pgloaderSeconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`pgloader failed:\n${run.stdout}\n${run.stderr}`);
  const pgloaderRows = await countRows(pgl, tables);
  rounds.pgloader.push({
    rows: pgloaderRows,
    seconds: pgloaderSeconds,
    rate: pgloaderRows / pgloaderSeconds,
    cpu: cpuSince(cpu),
  });
  console.error(`[backfill] round ${round} pgloader: ${pgloaderRows} rows in ${pgloaderSeconds.toFixed(1)} s`);

  // Agora, live: the site serves thread reads throughout the copy.
  const target = await database(`agora_${round}`);
  const reading = readers(3600, rate);
  const metricsBefore = await scrape();
  cpu = cpuNow();
  started = performance.now();
  await api(server.base, 'POST', '/admin/migration', { target }, admin);
  let status;
  for (;;) {
    status = await api(server.base, 'GET', '/admin/migration', undefined, admin);
    if (status.phase !== 'copying') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const agoraSeconds = (performance.now() - started) / 1000;
  const agoraCpu = cpuSince(cpu);
  const metricsAfter = await scrape();
  console.error(
    `[backfill] during the copy: ${insideLine(metricsBefore, metricsAfter)}; the site's main thread busy ${((agoraCpu.siteMain / ((performance.now() - started) / 1000)) * 100).toFixed(0)} % of the time (at rest, the same reads: ${(rounds.rest[rounds.rest.length - 1].mainPerSecond * 100).toFixed(0)} %)`,
  );
  reading.stop();
  const during = figures(reading, await reading);
  if (status.phase !== 'streaming') throw new Error(`the migration ended ${status.phase}: ${status.error}`);
  rounds.agora.push({
    rows: status.copiedRows,
    seconds: agoraSeconds,
    rate: status.copiedRows / agoraSeconds,
    cpu: agoraCpu,
  });
  rounds.during.push(during);
  console.error(`[backfill] round ${round} agora: ${status.copiedRows} rows in ${agoraSeconds.toFixed(1)} s`);
  await api(server.base, 'DELETE', '/admin/migration', undefined, admin);
}
await server.stop();
postgres.stop();
source.stop();

const median = (list, key) => [...list].sort((a, b) => a[key] - b[key])[Math.floor(list.length / 2)];
const agora = median(rounds.agora, 'rate');
const pgl = median(rounds.pgloader, 'rate');
const rest = median(rounds.rest, 'p99');
const during = median(rounds.during, 'p99');
const n = (x) => Math.round(x).toLocaleString('en');
console.log(
  `backfill ${n(opts.comments)} comments sqlite → postgres: agora ${n(agora.rate)} rows/s (${n(agora.rows)} rows in ${agora.seconds.toFixed(1)} s, site serving), pgloader ${n(pgl.rate)} rows/s (${n(pgl.rows)} rows in ${pgl.seconds.toFixed(1)} s, offline): ratio ${(agora.rate / pgl.rate).toFixed(2)} (goal ≥ 1), medians of ${opts.rounds} round(s)`,
);
const cpuLine = (c) =>
  `site ${c.site.toFixed(1)} (its main thread ${c.siteMain.toFixed(1)}), load generator and pgloader ${c.bench.toFixed(1)}, postgres ${postgres.pid ? c.postgres.toFixed(1) : 'not counted (another server)'}`;
console.log(`cpu seconds: agora's copy: ${cpuLine(agora.cpu)}; pgloader: ${cpuLine(pgl.cpu)}`);
console.log(
  `thread reads during the copy: ${n(during.rps)} req/s, p50 ${during.p50} ms, p99 ${during.p99} ms, max ${during.max} ms; at rest: ${n(rest.rps)} req/s, p50 ${rest.p50} ms, p99 ${rest.p99} ms, max ${rest.max} ms: p99 ratio ${(during.p99 / rest.p99).toFixed(2)} (goal ≤ 2); non-2xx ${during.non2xx + rest.non2xx}`,
);
