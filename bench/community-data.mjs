// Seeds the benchmark dataset of the community issue through the Store port:
// 10,000 users, 200 communities, 100,000 posts (titles and bodies from the real
// Reddit comments in test/fixtures), power-law votes with ranks computed by the
// app's own formulas, subscriptions, the search index, and 1,000 signed-in
// users whose tokens are returned. Deterministic for a given --seed.
import { randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const dist = (p) => import(join(ROOT, 'dist/src', p));

export function realTexts() {
  const file = join(ROOT, 'test', 'fixtures', 'reddit-threads.jsonl'); // a copy of ../shared/data's
  if (!existsSync(file))
    return ['A benchmark post about gardening', 'Running shoes for beginners', 'What do you think about vegetables'];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).body)
    .filter((b) => typeof b === 'string' && b.length > 10 && !b.includes('\u0000'));
}

/** Inserts rows with multi-row INSERTs of `per` rows. */
export async function insertMany(store, head, rowSql, rows, per = 200) {
  for (let i = 0; i < rows.length; i += per * 10) {
    await store.write(async (tx) => {
      for (let j = i; j < Math.min(i + per * 10, rows.length); j += per) {
        const chunk = rows.slice(j, j + per);
        await tx.run(`${head} VALUES ${chunk.map(() => rowSql).join(', ')}`, chunk.flat());
      }
    });
  }
}

export async function seedCommunity(
  url,
  { users = 10_000, communities = 200, posts = 100_000, signedIn = 1_000, subscribedTo = 100, seed = 42 } = {},
) {
  const { openStore, migrate, loadMigrations } = await dist('platform/store/index.js');
  const { rng } = await import(join(ROOT, 'dist/test/support/rng.js'));
  const { createIdGenerator } = await dist('platform/ids.js');
  const { hot, controversy } = await dist('modules/posts/ranks.js');
  const { hashToken } = await dist('modules/accounts/tokens.js');
  const { SEARCH_QUERIES } = await dist('modules/search/queries.js');
  const { migrationsDir } = await dist('paths.js');
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const texts = realTexts();
  const now = Date.now();
  let clock = now - 30 * 86_400_000;
  const ids = createIdGenerator(() => clock);
  const store = openStore({ url, sqliteSync: 'normal', pgPoolSize: 4 });
  await migrate(store, loadMigrations(migrationsDir(), store.dialect), { now: () => Date.now() });
  const started = Date.now();

  // Accounts: one real scrypt hash of "bench-password" serves them all.
  const salt = randomBytes(16);
  const hash = [
    'scrypt',
    16384,
    8,
    1,
    salt.toString('base64url'),
    scryptSync('bench-password', salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64url'),
  ].join('$');
  const accounts = Array.from({ length: users }, (_, i) => {
    const name = `user_${String(i + 1).padStart(5, '0')}`;
    return [ids.next(), name, name, null, hash, clock];
  });
  const accountIds = accounts.map((a) => a[0]);

  const communityRows = Array.from({ length: communities }, (_, i) => {
    const name = `community_${String(i + 1).padStart(3, '0')}`;
    return [ids.next(), name, name, pick(texts).slice(0, 100), pick(texts).slice(0, 500), accountIds[0], clock];
  });
  const communityIds = communityRows.map((c) => c[0]);

  // Subscriptions: the first user follows `subscribedTo` communities; everyone else ~5.
  const subs = new Map();
  const subscribe = (a, c) => subs.set(`${a} ${c}`, [a, c, clock]);
  for (let i = 0; i < subscribedTo; i++) subscribe(accountIds[0], communityIds[i]);
  for (const a of accountIds.slice(1))
    for (let k = 0; k < 5; k++) subscribe(a, communityIds[Math.floor(communities * r() ** 2)]);
  const counts = new Map();
  for (const [, c] of subs.values()) counts.set(c, (counts.get(c) ?? 0) + 1);

  // Posts: power-law community sizes and votes; the author's own upvote included.
  const postRows = [];
  const voteRows = [];
  const docs = [];
  for (let i = 0; i < posts; i++) {
    clock = now - 30 * 86_400_000 + Math.floor((i / posts) * 30 * 86_400_000);
    const id = ids.next();
    const communityId = communityIds[Math.floor(communities * r() ** 1.5)];
    const author = pick(accountIds);
    const title = pick(texts).split('\n')[0].slice(0, 300);
    const kind = r();
    const body = kind < 0.6 ? pick(texts).slice(0, 40_000) : null;
    const link = kind > 0.8 ? `https://example.com/${id.toLowerCase()}` : null;
    const up = 1 + Math.floor(1 / (1 - r() * 0.999) ** 1.2) - 1;
    const down = Math.floor(up * r() * 0.4);
    postRows.push([
      id,
      communityId,
      author,
      title,
      body,
      link,
      up,
      down,
      up - down,
      hot(up, down, clock),
      controversy(up, down),
      0,
      0,
      1,
      clock,
    ]);
    voteRows.push(['post', id, author, 1, clock, clock]);
    docs.push({ id, title, body: [body, link].filter(Boolean).join('\n') });
  }

  await insertMany(
    store,
    'INSERT INTO accounts (id, username, username_key, email, password_hash, created_at)',
    '(?, ?, ?, ?, ?, ?)',
    accounts,
  );
  await insertMany(
    store,
    'INSERT INTO communities (id, name, name_key, title, description, creator_id, created_at)',
    '(?, ?, ?, ?, ?, ?, ?)',
    communityRows,
  );
  await insertMany(
    store,
    'INSERT INTO community_moderators (community_id, account_id, added_by, created_at)',
    '(?, ?, ?, ?)',
    communityRows.map((c) => [c[0], accountIds[0], accountIds[0], clock]),
  );
  await insertMany(store, 'INSERT INTO subscriptions (account_id, community_id, created_at)', '(?, ?, ?)', [
    ...subs.values(),
  ]);
  await store.write(async (tx) => {
    for (const [c, n] of counts) await tx.run('UPDATE communities SET subscriber_count = ? WHERE id = ?', [n, c]);
  });
  await insertMany(
    store,
    'INSERT INTO posts (id, community_id, author_id, title, body, url, upvotes, downvotes, score, hot, controversy, comment_count, locked, visible, created_at)',
    '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    postRows,
    100,
  );
  await insertMany(
    store,
    'INSERT INTO votes (target_type, target_id, account_id, value, created_at, updated_at)',
    '(?, ?, ?, ?, ?, ?)',
    voteRows,
  );
  const search = SEARCH_QUERIES[store.dialect];
  for (let i = 0; i < docs.length; i += 2000) {
    await store.write(async (tx) => {
      for (const d of docs.slice(i, i + 2000))
        await search.upsert(tx, { kind: 'posts', id: d.id, title: d.title, body: d.body, now: clock });
    });
  }

  // Sessions for the first `signedIn` users.
  const tokens = accountIds.slice(0, signedIn).map(() => randomBytes(32).toString('base64url'));
  await insertMany(
    store,
    'INSERT INTO sessions (token_hash, account_id, created_at, expires_at)',
    '(?, ?, ?, ?)',
    tokens.map((t, i) => [hashToken(t), accountIds[i], now, now + 30 * 86_400_000]),
  );
  if (store.dialect === 'postgres') await store.write((tx) => tx.exec('ANALYZE'));
  else await store.write((tx) => tx.exec('ANALYZE'));
  await store.close();

  const sizes = [...new Set(postRows.map((p) => p[1]))].length;
  return {
    seconds: (Date.now() - started) / 1000,
    tokens,
    communityNames: communityRows.map((c) => c[1]),
    bigCommunity: communityRows[0][1],
    postIds: postRows.map((p) => p[0]),
    subscribedTo,
    communitiesWithPosts: sizes,
    words: [...new Set(postRows.slice(0, 2000).flatMap((p) => p[3].toLowerCase().match(/[a-z]{5,}/g) ?? []))].slice(
      0,
      300,
    ),
  };
}
