import type { AccountsModule } from '../accounts/index.js';
import type { CommunitiesModule } from '../communities/index.js';
import type { PostsModule } from '../posts/index.js';
import type { SearchModule } from '../search/index.js';
import { AppError } from '../../platform/errors.js';
import { idAt } from '../../platform/ids.js';
import { allIn, type Store, type Tx } from '../../platform/store/index.js';
import * as q from './queries.js';

/** One line of a Reddit-format comment file (the schema of shared/data/reddit-threads.jsonl). */
export interface RedditComment {
  thread_id: string;
  id: string;
  parent_id: string | null;
  author: string;
  body: string;
  score: number;
  ups?: number | null;
  downs?: number | null;
  created_utc: number;
}

/** What is known of a thread's post (a `*-meta.json` file next to the comments). */
export interface RedditThreadMeta {
  title?: string;
  author?: string;
  selftext?: string;
  url?: string;
  score?: number;
  created_utc?: number | string;
}

export interface ImportReport {
  threads: number;
  postsCreated: number;
  commentsCreated: number;
  commentsKept: number;
  placeholderAccounts: number;
}

const SOURCE_POST = 'reddit:t3';
const SOURCE_COMMENT = 'reddit:t1';
/** The author of imported posts whose author is unknown, and the creator of an import's community. */
export const IMPORTER = 'reddit_import';
const DELETED = '[deleted]';
const NAME = /^[A-Za-z0-9_-]{3,20}$/;

/** Parses and checks a file's lines; throws invalid_request naming the first bad line. */
export function parseRedditLines(text: string): RedditComment[] {
  const out: RedditComment[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let c: RedditComment;
    try {
      c = JSON.parse(line) as RedditComment;
    } catch {
      throw new AppError('invalid_request', `line ${i + 1}: not JSON`);
    }
    const ok =
      typeof c === 'object' &&
      c !== null &&
      typeof c.thread_id === 'string' &&
      typeof c.id === 'string' &&
      (c.parent_id === null || typeof c.parent_id === 'string') &&
      typeof c.author === 'string' &&
      typeof c.body === 'string' &&
      !c.body.includes('\0') &&
      Number.isInteger(c.score) &&
      Number.isFinite(c.created_utc);
    if (!ok)
      throw new AppError(
        'invalid_request',
        `line ${i + 1}: not a Reddit comment (thread_id, id, parent_id, author, body, score, created_utc)`,
      );
    out.push(c);
  });
  return out;
}

/** Up and down counts that give the recorded score: ups/downs when they agree with it, else the score as up or down votes. */
function counts(c: RedditComment): { up: number; down: number } {
  const { ups, downs, score } = c;
  if (typeof ups === 'number' && typeof downs === 'number' && ups >= 0 && downs >= 0 && ups - downs === score)
    return { up: ups, down: downs };
  return { up: Math.max(score, 0), down: Math.max(-score, 0) };
}

/**
 * Loads Reddit comment trees into a community: one post per thread, its
 * comments with their original times, scores and structure. Unknown
 * authors become placeholder accounts (they cannot sign in); `[deleted]`
 * authors stay deleted (no author). Every imported item is recorded in
 * `import_map`, so importing the same file again changes nothing, and a
 * file with more of a thread adds only what is new. One transaction per
 * thread.
 */
export function createImporter(deps: {
  store: Store;
  accounts: AccountsModule;
  communities: CommunitiesModule;
  posts: PostsModule;
  search: SearchModule;
  /** A change to a post's comments in the import's transaction (`service.threadChanged`): the new change number; the kept tree reads the import back after the commit. */
  threadChanged: (tx: Tx, postId: string, communityId: string, countDelta: number) => Promise<{ version: number }>;
}) {
  const { store, accounts, communities, posts, search } = deps;

  async function mapped(tx: Tx, source: string, externalIds: string[]): Promise<Map<string, string>> {
    const found = await allIn(externalIds, (slice) =>
      tx.all<{ external_id: string; local_id: string }>(q.MAPPED(slice.length), [source, ...slice]),
    );
    return new Map(found.map((r) => [r.external_id, r.local_id]));
  }

  async function community(name: string) {
    try {
      return await communities.ref(name);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'not_found') throw error;
    }
    const importer = await store.write((tx) => accounts.ensurePlaceholders(tx, [IMPORTER]));
    const accountId = importer.ids.get(IMPORTER) as string;
    await communities.create(
      { name, title: name, description: 'Imported discussions' },
      { accountId, username: IMPORTER, isAdmin: false, createdAt: 0, tokenHash: '' },
    );
    return communities.ref(name);
  }

  async function thread(
    tx: Tx,
    communityId: string,
    threadId: string,
    comments: RedditComment[],
    meta: RedditThreadMeta | undefined,
  ): Promise<Omit<ImportReport, 'threads'>> {
    const report = { postsCreated: 0, commentsCreated: 0, commentsKept: 0, placeholderAccounts: 0 };
    const names = new Set(comments.map((c) => c.author).filter((a) => a !== DELETED && NAME.test(a)));
    const postAuthor = meta?.author?.replace(/^u\//, '');
    if (postAuthor && NAME.test(postAuthor)) names.add(postAuthor);
    names.add(IMPORTER);
    const { ids: accountIds, created } = await accounts.ensurePlaceholders(tx, [...names]);
    report.placeholderAccounts += created;

    let postId = (await mapped(tx, SOURCE_POST, [threadId])).get(threadId);
    if (!postId) {
      const firstComment = Math.min(...comments.map((c) => c.created_utc));
      const created = typeof meta?.created_utc === 'number' ? meta.created_utc : firstComment;
      const score = meta?.score ?? 1;
      postId = idAt(Math.round(created * 1000));
      await posts.insertImported(tx, {
        id: postId,
        communityId,
        authorId: accountIds.get((postAuthor && NAME.test(postAuthor) ? postAuthor : IMPORTER).toLowerCase()) as string,
        title: (meta?.title ?? `Reddit thread ${threadId}`).slice(0, 300),
        body: meta?.selftext ? meta.selftext : null,
        url: meta?.url && /^https?:\/\//.test(meta.url) ? meta.url : null,
        upvotes: Math.max(score, 0),
        downvotes: Math.max(-score, 0),
        createdAt: Math.round(created * 1000),
      });
      await tx.run(q.MAP, [SOURCE_POST, threadId, postId]);
      report.postsCreated++;
    }

    const known = await mapped(
      tx,
      SOURCE_COMMENT,
      comments.map((c) => c.id),
    );
    const fresh = comments.filter((c) => !known.has(c.id));
    report.commentsKept += known.size;
    if (fresh.length === 0) return report;
    // A post made by this import is in the thread's community; one imported before stays where it is.
    const postCommunityId = report.postsCreated > 0 ? communityId : await posts.communityIdOf(postId, tx);

    // Depth of parents imported before (possibly from another file).
    const parents = await allIn([...known.values()], (slice) => tx.all<q.CommentRow>(q.byIds(slice.length), slice));
    const depthOf = new Map(parents.map((r) => [r.id, r.depth]));
    const byExternal = new Map(comments.map((c) => [c.id, c]));
    const localId = new Map(known);
    for (const c of fresh) localId.set(c.id, idAt(Math.round(c.created_utc * 1000)));
    const depth = (c: RedditComment): number => {
      let d = 0;
      for (let p = c.parent_id; p !== null; d++) {
        if (d > comments.length) throw new AppError('invalid_request', `comment ${c.id}: its parents form a loop`);
        const local = known.get(p);
        if (local !== undefined) return d + 1 + (depthOf.get(local) ?? 0);
        const parent = byExternal.get(p);
        if (!parent)
          throw new AppError(
            'invalid_request',
            `comment ${c.id}: its parent ${p} is neither in the file nor imported before`,
          );
        p = parent.parent_id;
      }
      return d;
    };
    const rows = fresh.map((c) => ({ c, depth: depth(c) })).sort((a, b) => a.depth - b.depth);
    const deepest = rows[rows.length - 1];
    if (deepest && deepest.depth >= q.MAX_DEPTH)
      throw new AppError('invalid_request', `comment ${deepest.c.id}: replies nest at most ${q.MAX_DEPTH} levels deep`);
    const children = new Map<string, number>();
    for (const { c } of rows) if (c.parent_id !== null) children.set(c.parent_id, (children.get(c.parent_id) ?? 0) + 1);
    // Replies to comments imported before raise their reply counts.
    for (const [external, local] of known) {
      const added = children.get(external) ?? 0;
      if (added > 0) await tx.run(q.ADD_CHILDREN, [added, local]);
    }
    // The post's next change number, under its lock until this import's transaction ends:
    // taken after the comment rows' locks, the lock order of every comment change.
    const { version } = await deps.threadChanged(tx, postId, postCommunityId, fresh.length);
    const karma = new Map<string, number>();
    for (let i = 0; i < rows.length; i += 400) {
      const chunk = rows.slice(i, i + 400);
      const params = chunk.flatMap(({ c, depth: d }) => {
        const { up, down } = counts(c);
        const author = c.author === DELETED ? null : (accountIds.get(c.author.toLowerCase()) ?? null);
        if (author !== null) karma.set(author, (karma.get(author) ?? 0) + c.score);
        const parent = c.parent_id === null ? null : (localId.get(c.parent_id) as string);
        return [
          localId.get(c.id) as string,
          postId,
          parent,
          author,
          c.body,
          d,
          up,
          down,
          children.get(c.id) ?? 0,
          Math.round(c.created_utc * 1000),
          version,
        ];
      });
      await tx.run(q.insertMany(chunk.length), params);
      await tx.run(
        q.mapMany(chunk.length),
        chunk.flatMap(({ c }) => [SOURCE_COMMENT, c.id, localId.get(c.id) as string]),
      );
      for (const { c } of chunk) await search.index(tx, 'comments', localId.get(c.id) as string, '', c.body);
    }
    for (const [author, score] of karma) await accounts.addKarma(tx, author, { comment: score });
    report.commentsCreated += fresh.length;
    return report;
  }

  return {
    /** Imports parsed comments (`parseRedditLines`) into the community, created if missing. */
    async importReddit(
      comments: RedditComment[],
      options: { communityName: string; meta?: Record<string, RedditThreadMeta> },
    ): Promise<ImportReport> {
      const target = await community(options.communityName);
      const threads = new Map<string, RedditComment[]>();
      const seen = new Set<string>();
      for (const c of comments) {
        if (seen.has(c.id)) continue; // a comment listed twice is imported once
        seen.add(c.id);
        const list = threads.get(c.thread_id);
        if (list) list.push(c);
        else threads.set(c.thread_id, [c]);
      }
      const report: ImportReport = {
        threads: threads.size,
        postsCreated: 0,
        commentsCreated: 0,
        commentsKept: 0,
        placeholderAccounts: 0,
      };
      for (const [threadId, list] of threads) {
        // Counted after the commit (a transaction may be retried).
        const done = await store.write((tx) => thread(tx, target.id, threadId, list, options.meta?.[threadId]));
        report.postsCreated += done.postsCreated;
        report.commentsCreated += done.commentsCreated;
        report.commentsKept += done.commentsKept;
        report.placeholderAccounts += done.placeholderAccounts;
      }
      return report;
    },
  };
}

export type Importer = ReturnType<typeof createImporter>;
