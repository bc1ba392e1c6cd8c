// Seeds realistic comment threads through the Store port, for the comments
// benchmarks: one post per requested size (default 1,000, 10,000 and
// 100,000 comments) in one community, bodies from the real Reddit comments in
// test/fixtures (a copy of ../shared/data's), ~30 % top level, replies down to depth 15 (a reply goes
// under a recent comment more often than an old one, so chains form),
// power-law votes (the author's own upvote included, with its vote row),
// comment counts, reply counts and the posts' comment change numbers as the
// app keeps them, plus `signedIn` users with session tokens. Deterministic for
// a given --seed.
//   node bench/comments-data.mjs [--sizes 1000,10000,100000] [--url sqlite:./.bench/c.db]   (prints a summary)
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { insertMany, realTexts } from './community-data.mjs';
import { ROOT, parseArgs } from './lib.mjs';

const dist = (p) => import(join(ROOT, 'dist/src', p));
const MAX_DEPTH = 15;

export async function seedComments(
  url,
  { sizes = [1_000, 10_000, 100_000], users = 2_000, signedIn = 1_000, seed = 42 } = {},
) {
  const { openStore, migrate, loadMigrations } = await dist('platform/store/index.js');
  const { rng } = await import(join(ROOT, 'dist/test/support/rng.js'));
  const { createIdGenerator } = await dist('platform/ids.js');
  const { hot } = await dist('modules/posts/ranks.js');
  const { hashToken } = await dist('modules/accounts/tokens.js');
  const { migrationsDir } = await dist('paths.js');
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const texts = realTexts().filter((t) => t.length <= 2_000);
  const now = Date.now();
  let clock = now - 7 * 86_400_000;
  const ids = createIdGenerator(() => clock);
  const store = openStore({ url, sqliteSync: 'normal', pgPoolSize: 4 });
  await migrate(store, loadMigrations(migrationsDir(), store.dialect), { now: () => Date.now() });
  const started = Date.now();

  const accounts = Array.from({ length: users }, (_, i) => {
    const name = `cuser_${String(i + 1).padStart(5, '0')}`;
    return [ids.next(), name, name, null, '!', clock];
  });
  const accountIds = accounts.map((a) => a[0]);
  await insertMany(
    store,
    'INSERT INTO accounts (id, username, username_key, email, password_hash, created_at)',
    '(?, ?, ?, ?, ?, ?)',
    accounts,
  );
  const communityId = ids.next();
  await store.write(async (tx) => {
    await tx.run(
      'INSERT INTO communities (id, name, name_key, title, description, creator_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [communityId, 'threads', 'threads', 'Threads', 'Benchmark threads', accountIds[0], clock],
    );
    await tx.run(
      'INSERT INTO community_moderators (community_id, account_id, added_by, created_at) VALUES (?, ?, ?, ?)',
      [communityId, accountIds[0], accountIds[0], clock],
    );
  });

  const posts = [];
  for (const size of sizes) {
    const postId = ids.next();
    const start = clock;
    const rows = [];
    const votes = [];
    const depth = [];
    const children = new Map();
    for (let i = 0; i < size; i++) {
      clock = start + Math.floor((i / size) * 3 * 86_400_000);
      const id = ids.next();
      let parent = -1;
      if (i > 0 && r() >= 0.3) {
        // Replies cluster on recent comments (chains), the rest anywhere.
        parent = r() < 0.6 ? i - 1 - Math.floor(r() * Math.min(i, 20)) : Math.floor(r() * i);
        while (parent >= 0 && depth[parent] >= MAX_DEPTH)
          parent = rows[parent][2] === null ? -1 : rows[parent].parentIndex;
      }
      depth[i] = parent < 0 ? 0 : depth[parent] + 1;
      if (parent >= 0) children.set(parent, (children.get(parent) ?? 0) + 1);
      const author = pick(accountIds);
      const up = Math.floor(1 / (1 - r() * 0.999) ** 1.1);
      const down = Math.floor(up * r() * 0.5);
      const row = [
        id,
        postId,
        parent < 0 ? null : rows[parent][0],
        author,
        pick(texts),
        depth[i],
        up,
        down,
        0,
        clock,
        1,
      ];
      row.parentIndex = parent;
      rows.push(row);
      votes.push(['comment', id, author, 1, clock, clock]);
    }
    for (const [i, n] of children) rows[i][8] = n;
    await store.write(async (tx) => {
      await tx.run(
        `INSERT INTO posts (id, community_id, author_id, title, body, url, upvotes, downvotes, score, hot, controversy, comment_count, locked, visible, created_at, comment_version)
         VALUES (?, ?, ?, ?, ?, NULL, 1, 0, 1, ?, 0, ?, 0, 1, ?, 1)`,
        [
          postId,
          communityId,
          accountIds[0],
          `A thread of ${size} comments`,
          pick(texts),
          hot(1, 0, start),
          size,
          start,
        ],
      );
    });
    await insertMany(
      store,
      'INSERT INTO comments (id, post_id, parent_id, author_id, body, depth, upvotes, downvotes, child_count, created_at, version)',
      '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      rows.map((row) => row.slice()),
      100,
    );
    await insertMany(
      store,
      'INSERT INTO votes (target_type, target_id, account_id, value, created_at, updated_at)',
      '(?, ?, ?, ?, ?, ?)',
      votes,
    );
    posts.push({
      id: postId,
      size,
      topLevel: rows.filter((row) => row[2] === null).length,
      maxDepth: Math.max(...depth),
      commentIds: rows.map((row) => row[0]),
    });
  }

  const tokens = accountIds.slice(0, signedIn).map(() => randomBytes(32).toString('base64url'));
  await insertMany(
    store,
    'INSERT INTO sessions (token_hash, account_id, created_at, expires_at)',
    '(?, ?, ?, ?)',
    tokens.map((t, i) => [hashToken(t), accountIds[i], now, now + 30 * 86_400_000]),
  );
  await store.write((tx) => tx.exec('ANALYZE'));
  await store.close();
  return { seconds: (Date.now() - started) / 1000, posts, tokens };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = parseArgs(process.argv.slice(2), {
    sizes: '1000,10000,100000',
    url: `sqlite:${join(ROOT, '.bench', 'comments.db')}`,
    seed: 42,
  });
  const data = await seedComments(opts.url, { sizes: opts.sizes.split(',').map(Number), seed: opts.seed });
  for (const p of data.posts)
    console.log(
      `post ${p.id}: ${p.size} comments, ${p.topLevel} top level (${((100 * p.topLevel) / p.size).toFixed(0)} %), depth up to ${p.maxDepth}`,
    );
  console.log(`seeded in ${data.seconds.toFixed(1)} s`);
}
