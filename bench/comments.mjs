// The threaded-comments issue's benchmarks on generated threads
// (bench/comments-data.mjs: 1,000, 10,000 and 100,000 comments, seeded through the Store port):
//   read     GET /posts/:id/comments?sort=best&limit=100 on the 10,000-comment thread
//   size     the same read on the 1,000- and 100,000-comment threads (cost must not grow with the thread),
//            the two in turn for --rounds rounds (3), each one's median round compared
//   write    POST /posts/:id/comments (5 connections, 1,000 users, replies anywhere in the thread)
//            while the read load runs on the same thread (45 connections)
//   vote     PUT /comments/:id/vote (1,000 users, random comments of the 10,000 thread, values 1/-1/0)
//   node bench/comments.mjs [--store sqlite|postgres] [--duration 10] [--connections 50] [--only read,size,write,vote] [--rounds 3]
import { join } from 'node:path';
import { seedComments } from './comments-data.mjs';
import {
  ROOT,
  alternate,
  api,
  benchStore,
  ensureWrk,
  luaScript,
  parseArgs,
  startServer,
  wrk,
  wrkAsync,
} from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), {
  store: 'sqlite',
  duration: 10,
  connections: 50,
  only: 'read,size,write,vote',
  rounds: 3,
});
const only = new Set(opts.only.split(','));
ensureWrk();
const store = await benchStore(opts.store);
console.log(`[bench] seeding ${opts.store} ...`);
const data = await seedComments(store.url);
const [small, mid, large] = data.posts;
console.log(
  `[bench] seeded in ${data.seconds.toFixed(1)} s: ${data.posts.map((p) => `${p.size} comments (${p.topLevel} top level, depth ${p.maxDepth})`).join(', ')}`,
);
const server = await startServer({ AGORA_DATABASE_URL: store.url });
const { rng } = await import(join(ROOT, 'dist/test/support/rng.js'));
const r = rng(11);
const pick = (xs) => xs[Math.floor(r() * xs.length)];
const readUrl = (post) => `${server.base}/api/v1/posts/${post.id}/comments?sort=best&limit=100`;
const line = (name, res, goal) =>
  `${name} ${opts.store}: ${res.rps.toFixed(0)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, non-2xx ${res.non2xx}${goal ? ` (${goal})` : ''}`;
const verdict = (ok, text) => `goal ${text}: ${ok ? 'met' : 'NOT met'}`;

const lines = [];
try {
  for (const post of data.posts) await api(server.base, 'GET', `/api/v1/posts/${post.id}/comments?sort=best&limit=100`); // loads each tree once
  const run = { connections: opts.connections };
  if (only.has('read')) {
    wrk(readUrl(mid), { ...run, duration: 2 });
    const res = wrk(readUrl(mid), { ...run, duration: opts.duration });
    console.log(`--- GET /posts/:id/comments?sort=best&limit=100, ${mid.size} comments (${opts.store})\n${res.out}`);
    const goal = opts.store === 'sqlite' ? res.rps >= 5000 && res.p99 <= 20 : res.rps >= 2000;
    lines.push(
      line(
        `read ${mid.size}`,
        res,
        verdict(goal && res.non2xx === 0, opts.store === 'sqlite' ? '>= 5000 req/s, p99 <= 20 ms' : '>= 2000 req/s'),
      ),
    );
  }
  if (only.has('size')) {
    for (const post of [small, large]) wrk(readUrl(post), { ...run, duration: 2 });
    const [smallRuns, largeRuns] = alternate(
      opts.rounds,
      [small, large].map((post) => () => wrk(readUrl(post), { ...run, duration: opts.duration })),
    );
    for (const [post, runs] of [
      [small, smallRuns],
      [large, largeRuns],
    ]) {
      console.log(
        `--- GET /posts/:id/comments?sort=best&limit=100, ${post.size} comments (${opts.store}), median of ${opts.rounds} rounds\n${runs.median.out}`,
      );
      lines.push(
        line(`read ${post.size}`, runs.median) +
          ` (rounds: ${runs.rounds.map((r) => r.rps.toFixed(0)).join(', ')} req/s)`,
      );
    }
    const ratio = largeRuns.median.rps / smallRuns.median.rps;
    lines.push(
      `size ${opts.store}: ${large.size}-comment thread / ${small.size}-comment thread = ${(100 * ratio).toFixed(1)} % of the throughput, medians of ${opts.rounds} alternating rounds (${verdict(ratio >= 0.75, 'within 25 %')})`,
    );
  }
  if (only.has('write')) {
    const script = luaScript(
      'comment',
      Array.from({ length: 20_000 }, (_, i) => ({
        method: 'POST',
        path: `/api/v1/posts/${mid.id}/comments`,
        token: pick(data.tokens),
        body: JSON.stringify(
          r() < 0.3
            ? { body: `A new top-level comment ${i}` }
            : { body: `A reply, number ${i}`, parentId: pick(mid.commentIds) },
        ),
      })),
    );
    const readers = Math.max(1, opts.connections - 5);
    const mixed = (duration) =>
      Promise.all([
        wrkAsync(readUrl(mid), { connections: readers, duration }),
        wrkAsync(server.base, { connections: 5, duration, script }),
      ]);
    await mixed(2); // warm-up, as for the other runs
    const [reads, writes] = await mixed(opts.duration);
    console.log(
      `--- reads during the writes (${readers} connections)\n${reads.out}--- POST /posts/:id/comments (5 connections) while the reads run\n${writes.out}`,
    );
    lines.push(line(`reads during writes ${mid.size}`, reads));
    lines.push(line('write under read load', writes, verdict(writes.p99 <= 20 && writes.non2xx === 0, 'p99 <= 20 ms')));
  }
  if (only.has('vote')) {
    const script = luaScript(
      'comment-vote',
      Array.from({ length: 20_000 }, () => ({
        method: 'PUT',
        path: `/api/v1/comments/${pick(mid.commentIds)}/vote`,
        token: pick(data.tokens),
        body: JSON.stringify({ value: pick([1, 1, 1, -1, 0]) }),
      })),
    );
    wrk(server.base, { ...run, duration: 2, script });
    const res = wrk(server.base, { ...run, duration: opts.duration, script });
    console.log(`--- PUT /comments/:id/vote (${opts.store})\n${res.out}`);
    lines.push(
      line(
        'vote',
        res,
        opts.store === 'sqlite' ? verdict(res.rps >= 5000 && res.non2xx === 0, '>= 5000 req/s') : undefined,
      ),
    );
  }
  console.log(lines.join('\n'));
} finally {
  await server.stop();
  store.stop();
}
