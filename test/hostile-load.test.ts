import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { controversy, hot } from '../src/modules/posts/ranks.js';
import { idAt } from '../src/platform/ids.js';
import { startTestAppOn, type TestApp } from './support/app.js';
import { describeStores, freshDatabase } from './support/stores.js';
import { rng } from './support/rng.js';

/**
 * A large site: no single request may hold the event loop. While the
 * heaviest reads run — the first read of a 100,000-comment thread after a
 * start, the time-window listings over 100,000 posts — `/healthz` keeps
 * answering within 100 ms. The machine is shared and noisy: a scenario is
 * tried up to ATTEMPTS times and passes when one attempt keeps the bound (the
 * code before it held the loop for 0.6–1.1 s on every attempt).
 */
const ATTEMPTS = 3;

/** Collects the garbage of the seeding (when the runner gives `gc`), so that its pause does not fall inside a measurement. */
const settle = () => (globalThis as { gc?: () => void }).gc?.();

interface Seeded {
  posts: { id: string; size: number }[];
}
// The comments benchmark's generator (bench/comments-data.mjs): real bodies, real shapes.
const benchData = new URL('../../bench/comments-data.mjs', import.meta.url).href;
const { seedComments } = (await import(benchData)) as { seedComments(url: string, options: object): Promise<Seeded> };

const POSTS = 100_000;

/** POSTS posts in one community over two years (a handful in the last hour), through the Store port. */
async function seedPosts(app: TestApp, communityId: string, authorId: string): Promise<void> {
  const r = rng(7);
  const now = Date.now();
  const rows: (string | number | null)[][] = [];
  for (let i = 0; i < POSTS; i++) {
    // The newest 20 within the hour; the rest spread over two years before it.
    const createdAt =
      i < 20 ? now - Math.floor(r() * 3_000_000) : now - 3_600_000 - Math.floor(r() * 2 * 365 * 86_400_000);
    const up = Math.floor(1 / (1 - r() * 0.999));
    const down = Math.floor(up * r() * 0.5);
    rows.push([
      idAt(createdAt),
      communityId,
      authorId,
      `post ${i}`,
      'a body',
      up,
      down,
      up - down,
      hot(up, down, createdAt),
      controversy(up, down),
      createdAt,
    ]);
  }
  const per = 500;
  for (let i = 0; i < rows.length; i += per * 10) {
    await app.agora.store.write(async (tx) => {
      for (let j = i; j < Math.min(i + per * 10, rows.length); j += per) {
        const chunk = rows.slice(j, j + per);
        await tx.run(
          `INSERT INTO posts (id, community_id, author_id, title, body, url, upvotes, downvotes, score, hot, controversy, comment_count, locked, visible, created_at)
           VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 0, 0, 1, ?)').join(', ')}`,
          chunk.flat(),
        );
      }
    });
  }
  await app.agora.store.write((tx) => tx.exec('ANALYZE'));
}

/**
 * Runs `work` while a client asks /healthz every 10 ms on a fixed schedule,
 * not waiting for earlier answers; the slowest answer's time, counted from
 * when it was due to be asked (so a loop held between two probes shows too).
 */
async function healthzWhile(app: TestApp, work: () => Promise<unknown>): Promise<{ slowest: number; probes: number }> {
  const every = 10;
  const start = performance.now();
  const answers: Promise<number>[] = [];
  const due = () => start + answers.length * every;
  const ask = () => {
    // Every probe due by now is sent (a held loop makes several due at once).
    while (due() <= performance.now()) {
      const at = due();
      answers.push(fetch(`${app.base}/healthz`).then(async (res) => (await res.text(), performance.now() - at)));
    }
  };
  const timer = setInterval(ask, every);
  try {
    await work();
  } finally {
    clearInterval(timer);
    ask();
  }
  const times = await Promise.all(answers);
  return { slowest: Math.max(...times), probes: times.length };
}

describeStores('a large site under its heaviest reads', (kind) => {
  let app: TestApp;
  let db: { url: string; drop(): Promise<void> };
  let thread: string;
  let community = '';
  /** The app on the seeded database (a restart leaves no tree in memory). */
  const start = () => startTestAppOn({ url: db.url, drop: async () => {} });

  before(async () => {
    db = await freshDatabase(kind);
    const seeded = await seedComments(db.url, { sizes: [100_000], users: 200, signedIn: 1 });
    thread = seeded.posts[0]!.id;
    app = await start();
    const owner = await app.agora.store.q.get<{ id: string; creator_id: string; name: string }>(
      'SELECT id, creator_id, name FROM communities',
    );
    await seedPosts(app, owner!.id, owner!.creator_id);
    community = owner!.name;
    // Let the stores' own work after the bulk seed (SQLite's checkpoint of a large WAL,
    // PostgreSQL's autovacuum and checkpoint) finish now, not during the measured reads.
    if (kind === 'sqlite') await app.agora.store.q.all('PRAGMA wal_checkpoint(TRUNCATE)');
    else
      for (const sql of ['VACUUM ANALYZE posts', 'VACUUM ANALYZE comments', 'CHECKPOINT'])
        await app.agora.store.q.run(sql);
  });
  after(async () => {
    await app.close();
    await db.drop();
  });

  test('the first read of a 100,000-comment thread: /healthz answers within 100 ms meanwhile', async (t) => {
    const attempts: number[] = [];
    for (let attempt = 1; attempt <= ATTEMPTS && !(Math.min(...attempts) < 100); attempt++) {
      if (attempt > 1) {
        await app.close();
        app = await start();
      }
      settle();
      let status = 0;
      const { slowest, probes } = await healthzWhile(app, async () => {
        const res = await fetch(`${app.base}/api/v1/posts/${thread}/comments`);
        status = res.status;
        const body = (await res.json()) as { items: unknown[] };
        assert.equal(body.items.length > 0, true);
        // Every sort's first read sorts the 30,000 top-level comments.
        for (const sort of ['new', 'top', 'old', 'controversial'])
          await (await fetch(`${app.base}/api/v1/posts/${thread}/comments?sort=${sort}`)).text();
      });
      assert.equal(status, 200);
      assert.ok(probes >= 5, `${probes} probes`);
      t.diagnostic(`attempt ${attempt}: /healthz slowest ${slowest.toFixed(1)} ms of ${probes} probes`);
      attempts.push(slowest);
    }
    assert.ok(
      Math.min(...attempts) < 100,
      `/healthz took up to ${attempts.map((ms) => ms.toFixed(1)).join(', ')} ms while the thread loaded`,
    );
  });

  test('time-window listings over 100,000 posts: bounded, and /healthz answers within 100 ms meanwhile', async (t) => {
    const paths = ['hour', 'day', 'week', 'month', 'year', 'all'].flatMap((t) => [
      `/api/v1/communities/${community}/posts?sort=top&t=${t}`,
      `/api/v1/communities/${community}/posts?sort=controversial&t=${t}`,
      `/api/v1/feed?sort=top&t=${t}`,
    ]);
    const attempts: number[] = [];
    for (let attempt = 1; attempt <= ATTEMPTS && !(Math.min(...attempts) < 100); attempt++) {
      settle();
      const slowestRead: [number, string] = [0, ''];
      const { slowest } = await healthzWhile(app, async () => {
        for (const path of paths) {
          const started = performance.now();
          const res = await fetch(app.base + path);
          const body = (await res.json()) as { items: { createdAt: number }[]; nextCursor: string | null };
          assert.equal(res.status, 200, path);
          if (path.includes('t=hour')) assert.equal(body.items.length, 20, `${path}: the posts of the last hour`);
          else assert.equal(body.items.length, 25, path);
          // A page deep into the listing costs what the first does.
          if (body.nextCursor)
            assert.equal((await fetch(`${app.base}${path}&cursor=${encodeURIComponent(body.nextCursor)}`)).status, 200);
          const took = performance.now() - started;
          if (took > slowestRead[0]) slowestRead.splice(0, 2, took, path);
        }
      });
      t.diagnostic(
        `attempt ${attempt}: /healthz slowest ${slowest.toFixed(1)} ms; slowest listing ${slowestRead[0].toFixed(1)} ms (${slowestRead[1]})`,
      );
      attempts.push(slowest);
    }
    assert.ok(
      Math.min(...attempts) < 100,
      `/healthz took up to ${attempts.map((ms) => ms.toFixed(1)).join(', ')} ms during the listings`,
    );
  });
});
