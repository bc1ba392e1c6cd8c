// The community issue's benchmarks on a generated dataset (bench/community-data.mjs:
// 100,000 posts in 200 communities, 10,000 users, seeded through the Store port):
//   listing  GET /communities/:name/posts?sort=hot   (the largest community)
//   feed     GET /feed?sort=hot                      (a user subscribed to 100 communities)
//   vote     PUT /posts/:id/vote                     (1,000 signed-in users, random posts and values)
//   search   GET /search?q=                          (one or two words from the posts' titles)
//   node bench/community.mjs [--store sqlite|postgres] [--duration 10] [--connections 50] [--only listing,feed,vote,search]
//                            [--explain yes]   (also print the query plans of the listing and feed queries)
import { join } from 'node:path';
import { seedCommunity } from './community-data.mjs';
import { ROOT, api, benchStore, ensureWrk, luaScript, parseArgs, startServer, wrk } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), {
  store: 'sqlite',
  duration: 10,
  connections: 50,
  only: 'listing,feed,vote,search',
  explain: 'no',
});
const only = new Set(opts.only.split(','));
ensureWrk();
const store = await benchStore(opts.store);
console.log(`[bench] seeding ${opts.store} ...`);
const data = await seedCommunity(store.url);
console.log(
  `[bench] seeded in ${data.seconds.toFixed(1)} s: 10,000 users, 200 communities (${data.communitiesWithPosts} with posts), 100,000 posts`,
);
if (opts.explain === 'yes') await explainListings(store.url, data);
const server = await startServer({ AGORA_DATABASE_URL: store.url });

const goals = {
  sqlite: { listing: [10_000, 20], feed: [3_000, 30], vote: [5_000, null], search: [1_000, null] },
  postgres: { listing: [4_000, 20], feed: [null, null], vote: [null, null], search: [null, null] },
}[opts.store];

const { rng } = await import(join(ROOT, 'dist/test/support/rng.js'));
const r = rng(7);
const pick = (xs) => xs[Math.floor(r() * xs.length)];

const scenarios = {
  listing: {
    title: `GET /api/v1/communities/${data.bigCommunity}/posts?sort=hot`,
    url: `${server.base}/api/v1/communities/${data.bigCommunity}/posts?sort=hot`,
  },
  feed: {
    title: `GET /api/v1/feed?sort=hot (signed in, ${data.subscribedTo} subscriptions)`,
    url: `${server.base}/api/v1/feed?sort=hot`,
    headers: { authorization: `Bearer ${data.tokens[0]}` },
  },
  vote: {
    title: 'PUT /api/v1/posts/:id/vote (1,000 users, random posts, values 1/-1/0)',
    url: server.base,
    script: () =>
      luaScript(
        'vote',
        Array.from({ length: 20_000 }, () => ({
          method: 'PUT',
          path: `/api/v1/posts/${pick(data.postIds)}/vote`,
          token: pick(data.tokens),
          body: JSON.stringify({ value: pick([1, 1, 1, -1, 0]) }),
        })),
      ),
  },
  search: {
    title: 'GET /api/v1/search?q= (one or two title words)',
    url: server.base,
    script: () =>
      luaScript(
        'search',
        Array.from({ length: 2_000 }, () => ({
          method: 'GET',
          path: `/api/v1/search?q=${encodeURIComponent(r() < 0.5 ? pick(data.words) : `${pick(data.words)} ${pick(data.words)}`)}`,
        })),
      ),
  },
};

const lines = [];
try {
  // A sanity check: each scenario answers 200 before it is measured.
  await api(server.base, 'GET', `/api/v1/communities/${data.bigCommunity}/posts?sort=hot`);
  await api(server.base, 'GET', '/api/v1/feed?sort=hot', undefined, data.tokens[0]);
  for (const [name, s] of Object.entries(scenarios)) {
    if (!only.has(name)) continue;
    const script = s.script?.();
    const run = { connections: opts.connections, headers: s.headers ?? {}, script };
    wrk(s.url, { ...run, duration: 2 }); // warm-up
    const res = wrk(s.url, { ...run, duration: opts.duration });
    console.log(`--- ${s.title} (${opts.store})\n${res.out}`);
    const [rpsGoal, p99Goal] = goals[name];
    const goal = [rpsGoal ? `>= ${rpsGoal} req/s` : null, p99Goal ? `p99 <= ${p99Goal} ms` : null]
      .filter(Boolean)
      .join(', ');
    const met = (!rpsGoal || res.rps >= rpsGoal) && (!p99Goal || res.p99 <= p99Goal) && res.non2xx === 0;
    lines.push(
      `${name} ${opts.store}: ${res.rps.toFixed(0)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, non-2xx ${res.non2xx}` +
        (goal ? ` (goal ${goal}: ${met ? 'met' : 'NOT met'})` : ''),
    );
  }
  console.log(lines.join('\n'));
} finally {
  await server.stop();
  store.stop();
}

/** Prints the plans of the listing queries the app runs (the same SQL, from the build) on the seeded data. */
async function explainListings(url, data) {
  const { openStore } = await import(join(ROOT, 'dist/src/platform/store/index.js'));
  const { listing } = await import(join(ROOT, 'dist/src/modules/posts/queries.js'));
  const { idUpperBound } = await import(join(ROOT, 'dist/src/platform/ids.js'));
  const db = openStore({ url, sqliteSync: 'normal', pgPoolSize: 2 });
  const one = (await db.q.get('SELECT id FROM communities WHERE name = ?', [data.bigCommunity])).id;
  const subscribed = (
    await db.q.all(
      'SELECT community_id FROM subscriptions s JOIN accounts a ON a.id = s.account_id WHERE a.username = ?',
      ['user_00001'],
    )
  ).map((r) => r.community_id);
  const bound = idUpperBound(Date.now());
  const cases = [
    [
      'community hot, first page',
      listing(db.dialect, { sort: 'hot', scope: 'one', windowed: false, after: false }),
      [one, bound, 26],
    ],
    [
      'community hot, next page',
      listing(db.dialect, { sort: 'hot', scope: 'one', windowed: false, after: true }),
      [one, bound, 14000, 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ', 26],
    ],
    [
      'community top t=week',
      listing(db.dialect, { sort: 'top', scope: 'one', windowed: true, after: false }),
      [one, Date.now() - 7 * 86_400_000, bound, 26],
    ],
    ['community new', listing(db.dialect, { sort: 'new', scope: 'one', windowed: false, after: false }), [one, 26]],
    [
      'anonymous feed hot (all communities)',
      listing(db.dialect, { sort: 'hot', scope: 'all', windowed: false, after: false }),
      [bound, 26],
    ],
    [
      `feed hot beyond the merge limit (${subscribed.length} subscriptions, IN list)`,
      listing(db.dialect, { sort: 'hot', scope: 'many', n: subscribed.length, windowed: false, after: false }),
      [...subscribed, bound, 26],
    ],
  ];
  for (const [title, sql, params] of cases) {
    const plan =
      db.dialect === 'sqlite'
        ? (await db.q.all(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail)
        : (await db.q.all(`EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) ${sql}`, params)).map((r) => r['QUERY PLAN']);
    console.log(
      `--- ${title} (${db.dialect})\n${sql.replace(/\s+/g, ' ').replace(/SELECT .* FROM/, 'SELECT … FROM')}\n  ${plan.join('\n  ')}`,
    );
  }
  await db.close();
}
