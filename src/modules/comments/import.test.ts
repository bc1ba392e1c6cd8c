import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startTestApp, startTestAppOn, TEST_ENV, type TestApp } from '../../../test/support/app.js';
import { testEnv } from '../../../test/support/env.js';
import { describeStores, freshDatabase } from '../../../test/support/stores.js';
import { projectRoot } from '../../paths.js';
import { parseRedditLines, type RedditThreadMeta } from './importer.js';
import type { Comment } from './presenter.js';

// A copy of ../shared/data/reddit-threads.jsonl (test/fixtures/REDDIT-DATA.md).
const DATA = join(projectRoot(), 'test', 'fixtures', 'reddit-threads.jsonl');
const run = promisify(execFile);

interface Node extends Comment {
  replies: Node[];
}
interface Stub {
  parentId: string | null;
  count: number;
  cursor: string;
}

describeStores('import of Reddit threads (agora import reddit)', (kind) => {
  let app: TestApp;
  const source = parseRedditLines(readFileSync(DATA, 'utf8'));
  const threads = [...new Set(source.map((c) => c.thread_id))];
  const meta = JSON.parse(readFileSync(DATA.replace(/\.jsonl$/, '-meta.json'), 'utf8')) as Record<
    string,
    RedditThreadMeta
  >;

  let db: { url: string; drop(): Promise<void> };
  before(async () => {
    db = await freshDatabase(kind);
    app = await startTestAppOn(db);
  });
  after(() => app.close());

  /** Every comment of a post, by following every stub from a limit=500 read. */
  async function readAll(postId: string, from: TestApp = app): Promise<Map<string, Node>> {
    const seen = new Map<string, Node>();
    const add = (items: Node[]) => {
      for (const c of items) {
        assert.ok(!seen.has(c.id), 'each comment once');
        seen.set(c.id, c);
        add(c.replies);
      }
    };
    const first = await from.request('GET', `/api/v1/posts/${postId}/comments?limit=500`);
    add(first.body.items);
    const stubs: Stub[] = [...first.body.more];
    while (stubs.length > 0) {
      const stub = stubs.pop() as Stub;
      const path = stub.parentId === null ? `/api/v1/posts/${postId}/comments` : `/api/v1/comments/${stub.parentId}`;
      const res = await from.request('GET', `${path}?limit=500&cursor=${stub.cursor}`);
      assert.equal(res.status, 200);
      add(stub.parentId === null ? res.body.items : res.body.replies);
      stubs.push(...res.body.more);
    }
    return seen;
  }

  test('the four real threads import; read back they are the imported comments, parents and bodies, byte for byte', async () => {
    const report = await app.agora.comments.importer.importReddit(source, {
      communityName: 'reddit_import_test',
      meta,
    });
    assert.deepEqual(report, {
      threads: 4,
      postsCreated: 4,
      commentsCreated: 7330,
      commentsKept: 0,
      placeholderAccounts: report.placeholderAccounts,
    });
    assert.ok(report.placeholderAccounts > 5000, 'unknown authors became placeholder accounts');
    const posts = (await app.request('GET', '/api/v1/communities/reddit_import_test/posts?sort=new&limit=10')).body
      .items as { id: string; title: string; commentCount: number }[];
    assert.equal(posts.length, 4);
    for (const threadId of threads) {
      const expected = source.filter((c) => c.thread_id === threadId);
      const post = posts.find((p) => p.title === meta[threadId]?.title);
      assert.ok(post, `thread ${threadId} became a post titled as its meta says`);
      assert.equal(post.commentCount, expected.length);
      const got = await readAll(post.id);
      assert.equal(got.size, expected.length, `thread ${threadId}: every comment, once`);
      // Map local ids back through bodies + times + structure: compare as (parent's source id, body, author, score, time).
      const localToSource = new Map<string, string>();
      const bySignature = new Map(expected.map((c) => [`${c.created_utc * 1000}|${c.body}|${c.score}|${c.author}`, c]));
      for (const c of got.values()) {
        const author = c.author ?? '[deleted]';
        const match = bySignature.get(`${c.createdAt}|${c.body}|${c.score}|${author}`);
        assert.ok(
          match,
          `comment ${c.id} (${JSON.stringify(c.body?.slice(0, 40))}) matches an imported one byte for byte`,
        );
        localToSource.set(c.id, match.id);
      }
      assert.equal(new Set(localToSource.values()).size, expected.length);
      for (const c of got.values()) {
        const original = expected.find((e) => e.id === localToSource.get(c.id));
        assert.equal(
          c.parentId === null ? null : localToSource.get(c.parentId),
          original?.parent_id,
          'the same parent',
        );
        if (original?.author === '[deleted]') assert.equal(c.author, null, 'a deleted author stays deleted');
      }
    }
    const unicode = source.find((c) => /[^\p{ASCII}]/u.test(c.body));
    assert.ok(unicode, 'the data holds non-ASCII text');
  });

  test('an import into a thread already read is in the next read (the kept tree does not go stale)', async () => {
    const own = await startTestApp(kind);
    try {
      const thread = source.filter((c) => c.thread_id === threads[0]);
      const topLevel = thread.filter((c) => c.parent_id === null);
      assert.ok(topLevel.length < thread.length, 'the thread has replies');
      await own.agora.comments.importer.importReddit(topLevel, { communityName: 'reddit_import_stale' });
      const { post_id: postId } = (await own.agora.store.q.get<{ post_id: string }>(
        'SELECT post_id FROM comments WHERE id = (SELECT local_id FROM import_map WHERE external_id = ?)',
        [topLevel[0]!.id],
      ))!;
      assert.equal((await readAll(postId, own)).size, topLevel.length, 'read once: the tree is kept');
      await own.agora.comments.importer.importReddit(thread, { communityName: 'reddit_import_stale' });
      assert.equal((await readAll(postId, own)).size, thread.length, 'the replies imported since are read');
    } finally {
      await own.close();
    }
  });

  test('importing the same file again changes nothing (the CLI command)', async (t) => {
    const counts = async () => {
      const posts = (await app.request('GET', '/api/v1/communities/reddit_import_test/posts?sort=new&limit=10')).body
        .items as { commentCount: number }[];
      return posts.map((p) => p.commentCount).sort();
    };
    // A database of its own: the first import is this test's, whatever ran before.
    const own = await freshDatabase(kind);
    const app = await startTestAppOn(own);
    t.after(() => app.close());
    await app.agora.comments.importer.importReddit(source, { communityName: 'reddit_import_test', meta });
    const before_ = await counts();
    const { stdout } = await run(
      process.execPath,
      [
        join(projectRoot(), 'dist', 'src', 'cli', 'main.js'),
        'import',
        'reddit',
        DATA,
        '--community',
        'reddit_import_test',
      ],
      {
        env: { ...testEnv(), ...TEST_ENV, AGORA_DATABASE_URL: own.url },
      },
    );
    assert.match(
      stdout,
      /4 thread\(s\), 0 post\(s\) and 0 comment\(s\) created, 7330 comment\(s\) already there, 0 placeholder account\(s\)/,
    );
    const again = await app.agora.comments.importer.importReddit(source, { communityName: 'reddit_import_test', meta });
    assert.deepEqual(again, {
      threads: 4,
      postsCreated: 0,
      commentsCreated: 0,
      commentsKept: 7330,
      placeholderAccounts: 0,
    });
    assert.deepEqual(await counts(), before_);
    // A karma sum of an imported author is their comments' scores, once.
    const author = source.find((c) => c.author !== '[deleted]' && /^[A-Za-z0-9_]{3,20}$/.test(c.author))
      ?.author as string;
    const expected = source.filter((c) => c.author === author).reduce((n, c) => n + c.score, 0);
    assert.equal((await app.request('GET', `/api/v1/accounts/${author}`)).body.karma.comment, expected);
  });
});
