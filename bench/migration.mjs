// The live migration end to end under load (issue 20): a site serving
// writers (comments, posts, votes, drop orders) and readers (threads, drop
// status) is copied to the other store, streamed, verified, cut over, written
// on, verified back, and rolled back — the load never stops. Each writer
// waits for its answer before its next request; every acknowledged write is
// then looked up: present exactly once on the target after the cutover and on
// the source after the rollback.
// Printed: the cutover's and the rollback's write pause (goal ≤ 1 s) with the
// longest write latency seen across it, the steady lag while streaming (goal
// ≤ 1 s), 5xx, refused writes, mismatches and writes missing.
//   node bench/migration.mjs [--from sqlite|postgres] [--to postgres|sqlite] [--duration 10] [--writers 8] [--readers 4] [--comments 20000]
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from '../scripts/pg-server.mjs';
import { seedComments } from './comments-data.mjs';
import { ROOT, api, createDatabase, makeAdmin, parseArgs, startServer } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), {
  from: 'sqlite',
  to: 'postgres',
  duration: 10,
  writers: 8,
  readers: 4,
  comments: 20_000,
});
const { openStore } = await import(join(ROOT, 'dist/src/platform/store/index.js'));
const { seedSignedIn } = await import(join(ROOT, 'dist/test/support/seed.js'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the two stores ----
const postgres = opts.from === 'postgres' || opts.to === 'postgres' ? await startPostgres() : null;
const dir = join(ROOT, '.bench', `migration-${process.pid}`);
async function storeUrl(kind, name) {
  if (kind === 'sqlite') {
    mkdirSync(dir, { recursive: true });
    return `sqlite:${join(dir, `${name}.db`)}`;
  }
  if (kind !== 'postgres') throw new Error(`--from and --to are sqlite or postgres, not ${kind}`);
  return createDatabase(postgres.url, name);
}
const sourceUrl = await storeUrl(opts.from, 'source');
const targetUrl = await storeUrl(opts.to, 'target');

// ---- the site: a thread with history, writers and an admin with sessions, a live drop ----
console.error(`[migration] seeding ${opts.comments.toLocaleString('en')} comments on ${opts.from} …`);
const seeded = await seedComments(sourceUrl, { sizes: [opts.comments], signedIn: 1 });
const names = ['mig_admin', ...Array.from({ length: opts.writers }, (_, i) => `mig_writer_${i + 1}`)];
const [admin, ...writerTokens] = await seedSignedIn(sourceUrl, names);
await makeAdmin(sourceUrl, 'mig_admin');

const server = await startServer({
  AGORA_DATABASE_URL: sourceUrl,
  AGORA_ORDER_PENDING_PER_ACCOUNT: '1000',
  AGORA_OUTBOX_POLL_MS: '500',
});
const base = server.base;
await api(base, 'POST', '/api/v1/communities', { name: 'mig_town', title: 'Migration town' }, admin);
const thread = seeded.posts[0].id;
const drop = await api(
  base,
  'POST',
  '/api/v1/drops',
  {
    communityName: 'mig_town',
    name: 'Drop through the move',
    stock: 1_000_000_000,
    priceCents: 1000,
    currency: 'USD',
    startsAt: 0,
    perCustomerLimit: 1_000_000,
  },
  admin,
);

// ---- the load ----
const RUN = Date.now().toString(36);
const acknowledged = { comments: [], posts: [], orders: [], votes: new Map(), voteRequests: 0 };
const failures = { fiveXX: 0, refused: 0, errors: 0, samples: [] };
/** Every write's [start, end] (ms since the epoch of performance.now()). */
const writes = [];
const reads = { n: 0 };
let running = true;

async function request(method, path, body, token, headers = {}) {
  const started = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const ended = performance.now();
    if (method !== 'GET') writes.push([started, ended]);
    if (res.status >= 500) failures.fiveXX++;
    else if (res.status >= 400) failures.refused++;
    if (res.status >= 400 && failures.samples.length < 5)
      failures.samples.push(`${method} ${path} ${res.status} ${text.slice(0, 200)}`);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  } catch (error) {
    failures.errors++;
    if (failures.samples.length < 5) failures.samples.push(`${method} ${path}: ${error.message}`);
    return { status: 0, body: null };
  }
}

async function writer(n, token) {
  for (let i = 0; running; i++) {
    const c = await request('POST', `/api/v1/posts/${thread}/comments`, { body: `bench-live ${RUN} ${n}.${i}` }, token);
    if (c.status === 201) acknowledged.comments.push(c.body.id);
    if (i % 8 === 1) {
      const o = await request('POST', `/api/v1/drops/${drop.id}/orders`, { quantity: 1 }, token, {
        'idempotency-key': `mig-${RUN}-${n}-${i}`,
      });
      if (o.status === 201) acknowledged.orders.push(o.body.id);
    }
    if (i % 10 === 2) {
      const p = await request(
        'POST',
        '/api/v1/communities/mig_town/posts',
        { title: `bench-live ${RUN} ${n}.${i}`, body: 'x' },
        token,
      );
      if (p.status === 201) acknowledged.posts.push(p.body.id);
    }
    if (i % 3 === 0) {
      const post = seeded.posts[i % seeded.posts.length].id;
      const value = (i + n) % 2 === 0 ? 1 : -1;
      const v = await request('PUT', `/api/v1/posts/${post}/vote`, { value }, token);
      if (v.status < 300) {
        acknowledged.votes.set(`${n}:${post}`, { token: n, post, value });
        acknowledged.voteRequests++;
      }
    }
  }
}
async function reader(n) {
  while (running) {
    await request('GET', n % 2 === 0 ? `/api/v1/posts/${thread}/comments?limit=50` : `/api/v1/drops/${drop.id}`);
    reads.n++;
  }
}
const load = Promise.all([
  ...writerTokens.map((token, i) => writer(i + 1, token)),
  ...Array.from({ length: opts.readers }, (_, i) => reader(i)),
]);

/** The writes in flight at any moment of [from, to]: how many, and the longest. */
const writesAcross = (from, to) => {
  const across = writes.filter(([s, e]) => s <= to && e >= from).map(([s, e]) => e - s);
  return { n: across.length, longest: Math.max(0, ...across) };
};
const percentile = (list, p) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
};
const status = () => api(base, 'GET', '/admin/migration', undefined, admin);
async function waitPhase(want) {
  for (;;) {
    const s = await status();
    if (s.phase === want) return s;
    if (s.phase === 'failed') throw new Error(`the migration failed: ${s.error}`);
    await sleep(100);
  }
}

/**
 * Each acknowledged write on this store (those acknowledged when called): present, and none twice (each
 * comment's and post's text is unique to its request). `final` (the load stopped): the drop holds exactly
 * the acknowledged orders, and each writer's vote is the last one acknowledged.
 */
async function lookUp(url, final) {
  const store = openStore({ url, pgPoolSize: 1 });
  try {
    const missing = {};
    for (const [table, list] of [
      ['comments', acknowledged.comments],
      ['posts', acknowledged.posts],
      ['orders', acknowledged.orders],
    ]) {
      const ids = list.slice();
      let found = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const slice = ids.slice(i, i + 500);
        const row = await store.q.get(
          `SELECT COUNT(*) AS n FROM ${table} WHERE id IN (${slice.map(() => '?').join(', ')})`,
          slice,
        );
        found += Number(row.n);
      }
      missing[table] = ids.length - found;
    }
    const twice = async (table, column) =>
      (
        await store.q.all(
          `SELECT ${column} FROM ${table} WHERE ${column} LIKE ? GROUP BY ${column} HAVING COUNT(*) > 1`,
          [`bench-live ${RUN} %`],
        )
      ).length;
    const out = { missing, twice: { comments: await twice('comments', 'body'), posts: await twice('posts', 'title') } };
    if (!final) return out;
    out.twice.orders =
      Number((await store.q.get('SELECT COUNT(*) AS n FROM orders WHERE drop_id = ?', [drop.id])).n) -
      acknowledged.orders.length;
    const accounts = new Map(
      (await store.q.all('SELECT id, username FROM accounts WHERE username LIKE ?', ['mig_writer_%'])).map((a) => [
        a.username,
        a.id,
      ]),
    );
    out.votesWrong = 0;
    for (const v of acknowledged.votes.values()) {
      const row = await store.q.get(
        "SELECT value FROM votes WHERE target_type = 'post' AND target_id = ? AND account_id = ?",
        [v.post, accounts.get(`mig_writer_${v.token}`)],
      );
      if (Number(row?.value) !== v.value) out.votesWrong++;
    }
    return out;
  } finally {
    await store.close();
  }
}
const clean = (r) =>
  Object.values(r.missing).every((n) => n === 0) &&
  Object.values(r.twice).every((n) => n === 0) &&
  (r.votesWrong ?? 0) === 0;

// ---- the run ----
let result = {};
try {
  await sleep(2000);
  const copyStarted = performance.now();
  await api(base, 'POST', '/admin/migration', { target: targetUrl }, admin);
  await waitPhase('streaming');
  const copySeconds = (performance.now() - copyStarted) / 1000;
  console.error(`[migration] copied in ${copySeconds.toFixed(1)} s; streaming for ${opts.duration} s`);

  const lags = [];
  const streamUntil = Date.now() + opts.duration * 1000;
  while (Date.now() < streamUntil) {
    lags.push((await status()).lag.ms);
    await sleep(200);
  }
  const verified = await api(base, 'POST', '/admin/migration/verify', undefined, admin);

  const cutStarted = performance.now();
  const cut = await api(base, 'POST', '/admin/migration/cutover', undefined, admin);
  const cutEnded = performance.now();
  console.error(`[migration] cut over (pause ${cut.pauseMs} ms); writing on ${opts.to} for ${opts.duration} s`);
  await sleep(opts.duration * 1000);
  // Counted now: the writes the pause held finish just after its answer.
  const cutWrites = writesAcross(cutStarted, cutEnded);
  const onTarget = await lookUp(targetUrl, false);
  const back = await api(base, 'POST', '/admin/migration/verify', undefined, admin);

  const rollStarted = performance.now();
  const rolled = await api(base, 'POST', '/admin/migration/rollback', undefined, admin);
  const rollEnded = performance.now();
  console.error(`[migration] rolled back (pause ${rolled.pauseMs} ms); writing on ${opts.from} for 3 s`);
  await sleep(3000);
  const rollWrites = writesAcross(rollStarted, rollEnded);
  running = false;
  await load;
  const onSource = await lookUp(sourceUrl, true);
  const sold = (await api(base, 'GET', `/api/v1/drops/${drop.id}`)).sold;
  result = { copySeconds, lags, verified, cut, cutWrites, onTarget, back, rolled, rollWrites, onSource, sold };
} finally {
  running = false;
  await load;
  await server.stop();
  postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}

const r = result;
const writesDone = acknowledged.comments.length + acknowledged.posts.length + acknowledged.orders.length;
console.log(
  `migration ${opts.from} → ${opts.to} under load (${opts.writers} writers, ${opts.readers} readers): ` +
    `${writesDone.toLocaleString('en')} acknowledged writes (${acknowledged.comments.length} comments, ${acknowledged.posts.length} posts, ${acknowledged.orders.length} orders, ${acknowledged.voteRequests} votes) and ${reads.n.toLocaleString('en')} reads; copy ${r.copySeconds.toFixed(1)} s`,
);
console.log(
  `cutover pause ${r.cut.pauseMs} ms (goal ≤ 1000), ${r.cutWrites.n} writes across it, the longest ${r.cutWrites.longest.toFixed(0)} ms; ` +
    `rollback pause ${r.rolled.pauseMs} ms, ${r.rollWrites.n} writes across it, the longest ${r.rollWrites.longest.toFixed(0)} ms`,
);
console.log(
  `steady lag while streaming: p50 ${percentile(r.lags, 50)} ms, p99 ${percentile(r.lags, 99)} ms, max ${Math.max(...r.lags)} ms (goal ≤ 1000)`,
);
console.log(
  `5xx ${failures.fiveXX}, refused writes ${failures.refused}, failed requests ${failures.errors}; ` +
    `mismatches before cutover ${r.verified.mismatches}, after it ${r.back.mismatches}; ` +
    `after cutover on ${opts.to}: ${clean(r.onTarget) ? 'every acknowledged write present once' : `NOT ALL ${JSON.stringify(r.onTarget)}`}; ` +
    `after rollback on ${opts.from}: ${clean(r.onSource) ? 'every acknowledged write present once' : `NOT ALL ${JSON.stringify(r.onSource)}`}; ` +
    `drop sold ${r.sold} for ${acknowledged.orders.length} orders`,
);
if (failures.samples.length) console.log(`first failures: ${failures.samples.join(' | ')}`);
