import type { AccountsModule } from '../accounts/index.js';
import type { ModerationModule } from '../moderation/index.js';
import type { PostsModule } from '../posts/index.js';
import type { SearchModule } from '../search/index.js';
import type { VoteValue, VotesModule } from '../votes/index.js';
import { createFreshReads } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { Cursors } from '../../platform/cursor.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Charge, MemoryBudget } from '../../platform/memory.js';
import { nextTurn } from '../../platform/slices.js';
import type { Outbox } from '../../platform/outbox/index.js';
import { allIn, allOf, broken, StoreError, type Guard, type Store, type Tx } from '../../platform/store/index.js';
import { fromRow, selectionParts, stubList, writeSelection, type Comment } from './presenter.js';
import * as q from './queries.js';
import {
  NeedsSort,
  select,
  SORTS,
  Thread,
  type Key,
  type Node,
  type Selection,
  type Sort,
  type Start,
} from './tree.js';

export interface CommentsDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  outbox: Outbox;
  accounts: AccountsModule;
  posts: PostsModule;
  moderation: ModerationModule;
  votes: VotesModule;
  search: SearchModule;
  cursors: Cursors;
  /** The trees are charged to it, the least recently read evicted first. */
  memory: MemoryBudget;
  /** On a store shared by several processes: how stale a kept unread count may be while notices are not heard. */
  cacheTtlMs: number;
}

export interface TreeQuery {
  sort?: Sort | undefined;
  limit: number;
  depth: number;
  cursor?: string | undefined;
}

/** The tree reads' default size (the size the site's own links use): only answers of this size are kept. */
export const TREE_LIMIT = 100;
/** The post page's size (the first 200 comments): kept too. */
export const PAGE_TREE_LIMIT = 200;
export const TREE_DEPTH = 10;
/** Estimated bytes of a kept selection per comment it shows. */
const SELECTION_NODE_BYTES = 64;
/** A comment's `myVote` in a signed-in reader's tree answer, by value. */
const MY_VOTE: Record<VoteValue, Buffer> = {
  [-1]: Buffer.from(',"myVote":-1'),
  0: Buffer.from(',"myVote":0'),
  1: Buffer.from(',"myVote":1'),
};

/**
 * A cold load reads LOAD_CHUNK rows per query (a few milliseconds on SQLite, whose reads
 * hold the loop), and applies them APPLY_SLICE at a time, yielding the loop whenever a
 * turn has taken SLICE_MS: a request waiting meanwhile needs a few turns to be answered.
 */
const LOAD_CHUNK = 500;
const APPLY_SLICE = 500;
const SLICE_MS = 4;

/** `u/name` mentions in a text: at most 10 distinct names. */
export function mentionsIn(body: string): string[] {
  const names = new Set<string>();
  for (const m of body.matchAll(/(?:^|[^A-Za-z0-9_/])u\/([A-Za-z0-9_-]{3,20})(?![A-Za-z0-9_-])/g)) {
    names.add((m[1] as string).toLowerCase());
    if (names.size === 10) break;
  }
  return [...names];
}

/** A stub cursor (`presenter.stubCursor`) issued for this parent: the sort, and the last sibling shown before the cut. */
function readCursor(cursors: Cursors, cursor: string, parent: string): { sort: Sort; after: Key | null } {
  let found: { sort: string; after: Key | null };
  try {
    found = { sort: cursors.decode(stubList(parent, false), cursor, ['string'])[0], after: null };
  } catch {
    const [sort, rank, createdAt, id] = cursors.decode(stubList(parent, true), cursor, [
      'string',
      'number',
      'int',
      'id',
    ]);
    found = { sort, after: [rank, createdAt, id] };
  }
  const sort = SORTS.find((s) => s === found.sort);
  if (!sort) throw new AppError('invalid_cursor', 'the cursor is not one this list issued', { field: 'cursor' });
  return { sort, after: found.after };
}

/**
 * Comments: create, edit, soft delete, vote, moderator removal, and the
 * tree reads. Every change to a post's comments takes a new change number
 * for the post under the post row's lock (`posts.commentsChanged`, its last
 * step), stored on the rows it touched; the in-memory trees catch up by reading the rows
 * above the number they hold — on every read on a shared store, only after
 * this process's own commits on a single writer.
 */
export function createCommentsService(deps: CommentsDeps) {
  const { store, clock, ids, outbox, accounts, posts, moderation, votes, search, cursors } = deps;
  // Kept trees, each charged to the memory budget (the least recently read evicted first).
  const threads = new Map<string, Thread>();
  const charges = new WeakMap<Thread, Charge>();
  /** After a tree changed or kept an answer: its charge follows its size. */
  const resized = (thread: Thread) => charges.get(thread)?.resize(thread.bytes);

  // At a swap every kept tree is the old store's: dropped (each is loaded again from the new one).
  store.onReplaced(() => {
    for (const thread of threads.values()) charges.get(thread)?.release();
    threads.clear();
  });

  /** Keeps a loaded tree, charged to the memory budget as the most recently used copy. */
  function keep(thread: Thread): void {
    const before = threads.get(thread.postId);
    if (before) charges.get(before)?.release();
    threads.set(thread.postId, thread);
    charges.set(
      thread,
      deps.memory.charge('comment-trees', thread.bytes, () => {
        if (threads.get(thread.postId) === thread) threads.delete(thread.postId);
      }),
    );
  }

  async function usernamesOf(rows: readonly q.CommentRow[]): Promise<Map<string, string>> {
    return accounts.usernames(rows.flatMap((r) => (r.author_id === null ? [] : [r.author_id])));
  }

  /** Reads the rows changed since the tree's version, in one snapshot, and applies them (false: a row's parent is unknown). */
  async function catchUp(thread: Thread): Promise<boolean> {
    const changed = await store.read(async (r) => {
      const version = await posts.commentVersion(r, thread.postId);
      return version === undefined
        ? null
        : { version, rows: await r.all<q.CommentRow>(q.OF_POST_SINCE, [thread.postId, thread.version]) };
    });
    if (!changed) throw new AppError('not_found', 'no such post');
    return thread.apply(changed.rows, changed.version, await usernamesOf(changed.rows));
  }

  /**
   * A whole thread, read and built in slices so that a cold load of a huge
   * thread never holds the event loop for long: its rows a chunk per query,
   * then applied parents first, a slice per turn. The tree takes the version
   * read before the walk; a row changed during the walk is met again (see
   * OF_POST_CHUNK) and the catch-up after reads everything changed since.
   */
  async function load(postId: string): Promise<Thread> {
    const version = await posts.commentVersion(store.q, postId);
    if (version === undefined) throw new AppError('not_found', 'no such post');
    // Rows by depth (parents first), each depth in walk order: a row met twice is applied
    // twice, the newer last.
    const byDepth: q.CommentRow[][] = [];
    for (let after: [number, string] = [0, '']; ;) {
      const chunk = await store.q.all<q.CommentRow>(q.OF_POST_CHUNK, [postId, after[0], after[1], LOAD_CHUNK]);
      for (const row of chunk) (byDepth[row.depth] ??= []).push(row);
      const last = chunk[chunk.length - 1];
      if (!last || chunk.length < LOAD_CHUNK) break;
      after = [last.version, last.id];
      await nextTurn();
    }
    const thread = new Thread(postId, 0);
    let slice: q.CommentRow[] = [];
    let turn = performance.now();
    const apply = async () => {
      if (!thread.applyInOrder(slice, await usernamesOf(slice)))
        throw new Error(`post ${postId}: a comment's parent is missing from its thread`);
      slice = [];
      if (performance.now() - turn < SLICE_MS) return;
      await nextTurn();
      turn = performance.now();
    };
    for (const rows of byDepth) {
      for (const row of rows ?? []) {
        slice.push(row);
        if (slice.length === APPLY_SLICE) await apply();
      }
    }
    await apply();
    thread.version = version;
    await catchUp(thread);
    keep(thread);
    return thread;
  }

  /** A selection, with any long children list it needs sorted in slices first (`NeedsSort`). */
  async function selectFrom(
    thread: Thread,
    start: Start,
    sort: Sort,
    limit: number,
    depth: number,
  ): Promise<Selection> {
    for (let attempt = 1; ; attempt++) {
      try {
        return select(thread, start, sort, limit, depth);
      } catch (error) {
        if (!(error instanceof NeedsSort)) throw error;
        // Under a stream of changes the sort may keep being overtaken: then it is done in one go.
        if (!(await thread.sortInSlices(error.node, error.sort)) && attempt >= 3)
          thread.sorted(error.node, error.sort, true);
      }
    }
  }

  /**
   * Brings a kept tree up to the latest commit (a full load if it has none)
   * in one statement: the rows changed since the tree's version, read in one
   * snapshot. Every change number is written on a row and numbers commit in
   * order, so the highest number among them is the post's number in that
   * snapshot (none: nothing changed).
   *
   * With read replicas the statement goes to one (`store.replica`). A
   * replica's snapshot is an earlier moment of the same commit order, so the
   * rows above the tree's version there are the next changes in order, and
   * the tree never goes back. A catch-up serves every reader who arrived
   * before it started, so it reads from a replica that has replayed the
   * highest position among them (`createFreshReads`), else from the primary.
   */
  const refresh = createFreshReads(async (postId: string): Promise<Thread> => {
    const thread = threads.get(postId);
    if (!thread) return load(postId);
    thread.stale = false;
    charges.get(thread)?.touch();
    const rows = await store.replica.all<q.CommentRow>(q.OF_POST_SINCE, [postId, thread.version]);
    if (rows.length === 0) return thread;
    const version = rows.reduce((v, r) => Math.max(v, r.version), thread.version);
    if (!thread.apply(rows, version, await usernamesOf(rows))) return load(postId);
    resized(thread);
    return thread;
  });

  /** The post's tree, exact: on a single writer straight from memory unless this process changed it since. */
  function tree(postId: string): Thread | Promise<Thread> {
    const thread = threads.get(postId);
    if (thread && store.capabilities.exactCopies && !thread.stale) {
      charges.get(thread)?.touch();
      return thread;
    }
    return refresh(postId);
  }

  /**
   * The one path of every change to a post's comments: takes the post's next
   * change number with the shown-comment count's delta (`posts.commentsChanged`:
   * the post row's lock, held from there to the commit) and, after the commit,
   * brings the kept tree along. On a single writer commits come in version
   * order, so the changed row (when `changedRow` gives it) is put straight into
   * the tree if it is the next version; otherwise the tree reads the changes
   * back on its next read. A row written in this transaction takes the new
   * number with `posts.commentVersionValue`.
   */
  function threadChanged(
    tx: Tx,
    postId: string,
    communityId: string,
    countDelta: number,
    changedRow?: () => { row: q.CommentRow; usernames: ReadonlyMap<string, string> } | undefined,
  ): Promise<{ version: number }> {
    tx.afterCommit(() => {
      const thread = threads.get(postId);
      if (!thread) return;
      const changed = store.capabilities.exactCopies && !thread.stale ? changedRow?.() : undefined;
      const applied =
        changed !== undefined &&
        changed.row.version === thread.version + 1 &&
        thread.apply([changed.row], changed.row.version, changed.usernames);
      if (!applied) thread.stale = true;
      else resized(thread);
    });
    return posts.commentsChanged(tx, postId, communityId, countDelta);
  }

  async function row(id: string): Promise<q.CommentRow> {
    const found = await store.q.get<q.CommentRow>(q.BY_ID, [id]);
    if (!found) throw new AppError('not_found', 'no such comment');
    return found;
  }

  /**
   * One change to a comment: locks the comment row, runs `change` with it,
   * then takes the post's next change number (`posts.commentsChanged`, the
   * post row's lock, held from there to the commit) and records it on the
   * row together with the shown-comment count's delta `change` returns.
   * Lock order everywhere: comment rows, then the post.
   */
  async function change<T>(
    id: string,
    fn: (
      tx: Tx,
      comment: q.CommentRow,
      post: { communityId: string },
    ) => Promise<{ countDelta: number; result: T; unchanged?: true } | null>,
  ): Promise<T | null> {
    return store.write(async (tx) => {
      const comment = await tx.get<q.CommentRow>(q.FOR_CHANGE[store.dialect], [id]);
      if (!comment) throw new AppError('not_found', 'no such comment');
      const postId = comment.post_id;
      const communityId = await posts.communityIdOf(postId, tx); // kept after the first ask: a post never moves
      const done = await fn(tx, comment, { communityId });
      if (!done) return null;
      if (done.unchanged) return done.result; // nothing written: no new change number
      // On a single writer the changed row is read after the writes (no round trip) and goes straight into the kept tree.
      let fresh: q.CommentRow | undefined;
      const setVersion = q.setVersion(id, posts.commentVersionValue(postId));
      const bumped = Promise.all([
        threadChanged(tx, postId, communityId, done.countDelta, () => fresh && { row: fresh, usernames: new Map() }),
        tx.run(setVersion.sql, setVersion.params),
      ]);
      tx.commitEarly(); // the post lock is held only while the server runs these two
      await bumped;
      if (store.capabilities.exactCopies) fresh = await tx.get<q.CommentRow>(q.BY_ID, [id]);
      return done.result;
    });
  }

  async function authored(id: string, principal: Principal): Promise<q.CommentRow> {
    const comment = await row(id);
    if (comment.deleted_at !== null) throw new AppError('not_found', 'this comment was deleted');
    if (comment.author_id !== principal.accountId) throw new AppError('forbidden', 'only the author may do this');
    return comment;
  }

  async function present(rows: q.CommentRow[], principal: Principal | null): Promise<Comment[]> {
    const [names, mine] = await Promise.all([
      usernamesOf(rows),
      principal
        ? votes.mine(
            principal.accountId,
            'comment',
            rows.map((r) => r.id),
          )
        : Promise.resolve(null),
    ]);
    return rows.map((r) => {
      const comment = fromRow(r, r.author_id === null ? null : (names.get(r.author_id) ?? null));
      if (mine) comment.myVote = mine.get(r.id) ?? 0;
      return comment;
    });
  }

  /** The rules a new comment meets, each stated once by the module that owns it, checked by the insert itself. */
  function createGuards(postId: string, communityId: string, parentId: string | null, author: string): Guard[] {
    const guards = [...posts.commentGuards(postId), moderation.notBanned(communityId, author)];
    if (parentId !== null)
      guards.push(
        {
          sql: q.PARENT_IN_POST,
          params: [parentId, postId],
          refusal: () =>
            new AppError('not_found', 'no such comment in this post, or it was deleted or removed', {
              field: 'parentId',
            }),
        },
        {
          sql: q.PARENT_ABOVE_DEEPEST,
          params: [parentId],
          refusal: () =>
            new AppError('invalid_request', `replies nest at most ${q.MAX_DEPTH} levels deep`, { field: 'parentId' }),
        },
      );
    return guards;
  }

  /**
   * The tree under `start` (the thread's root: the post's tree; a comment: that comment with
   * its subtree) as every reader sees it: the JSON text without anyone's votes, and the ids
   * of the comments it shows.
   */
  async function shared(
    thread: Thread,
    start: Node,
    query: TreeQuery,
  ): Promise<{
    text: () => Buffer;
    shownIds: () => string[];
    voted: (mine: ReadonlyMap<string, VoteValue>) => Buffer;
  }> {
    const fromCursor = query.cursor
      ? readCursor(cursors, query.cursor, start === thread.root ? thread.postId : start.id)
      : null;
    const sort = fromCursor?.sort ?? query.sort ?? 'best';
    // The selection and its text, of the sizes the site links to (the API's default limit and
    // the post page's, the default depth; any sort; issued cursors only, as they are signed),
    // are kept until the tree changes, charged with the tree. Other sizes are made each time,
    // so no client can fill memory with variants of one thread.
    const keepable = (query.limit === TREE_LIMIT || query.limit === PAGE_TREE_LIMIT) && query.depth === TREE_DEPTH;
    const key = `${start.id}|${sort}|${query.limit}|${query.cursor ?? ''}`;
    let kept = keepable ? thread.answers.get(key) : undefined;
    if (!kept) {
      // depth: levels shown below the start (top-level comments are level 1 of a post; a comment's replies, of its subtree).
      kept = {
        selection: await selectFrom(
          thread,
          { parent: start, after: fromCursor?.after ?? null },
          sort,
          query.limit,
          query.depth,
        ),
        text: undefined,
      };
      if (keepable) {
        if (thread.answers.size >= 256) {
          thread.answers.clear();
          thread.answerBytes = 0;
        }
        thread.answers.set(key, kept);
        thread.answerBytes += SELECTION_NODE_BYTES * kept.selection.shown.size;
        resized(thread);
      }
    }
    const { selection } = kept;
    const root = start === thread.root ? null : start;
    // Kept as bytes: a hot answer is neither re-encoded nor re-allocated per request.
    const text = () => {
      if (kept.text) return kept.text;
      const made = Buffer.from(writeSelection(cursors, selection, thread.postId, sort, root));
      if (keepable && thread.answers.get(key) === kept) {
        kept.text = made;
        thread.answerBytes += made.length;
        resized(thread);
      }
      return made;
    };
    // For signed-in readers, kept in pieces cut where each comment's `myVote` goes: a reader's
    // answer is the pieces and their votes put together, not the tree written again.
    const voted = (mine: ReadonlyMap<string, VoteValue>): Buffer => {
      let template = kept.voted;
      if (!template) {
        const { text: pieces, ids } = selectionParts(cursors, selection, thread.postId, sort, root, true);
        template = { parts: pieces.map((piece) => Buffer.from(piece)), ids };
        if (keepable && thread.answers.get(key) === kept) {
          kept.voted = template;
          thread.answerBytes += template.parts.reduce((n, b) => n + b.length, 0) + 32 * ids.length;
          resized(thread);
        }
      }
      const out: Buffer[] = [template.parts[0]!];
      template.ids.forEach((id, i) => out.push(MY_VOTE[mine.get(id) ?? 0], template.parts[i + 1]!));
      return Buffer.concat(out);
    };
    return {
      text,
      shownIds: () => [...selection.shown.keys()].map((n) => n.id).concat(root ? [root.id] : []),
      voted,
    };
  }

  /** The tree answer for `principal`: the shared text, or for a signed-in reader the text with their votes. */
  async function answer(
    thread: Thread,
    start: Node,
    query: TreeQuery,
    principal: Principal | null,
  ): Promise<string | Buffer> {
    const { text, shownIds, voted } = await shared(thread, start, query);
    return principal ? voted(await votes.mine(principal.accountId, 'comment', shownIds())) : text();
  }

  return {
    async create(
      postId: string,
      input: { body: string; parentId?: string | undefined },
      principal: Principal,
    ): Promise<Comment> {
      const id = ids.next();
      const author = principal.accountId;
      const parentId = input.parentId ?? null;
      const communityId = await posts.communityIdOf(postId);
      // A refusal is explained by the guard that does not hold. If they all hold by then
      // (the post, the parent or the ban changed in between), the create runs again; a
      // refusal still unexplained after three attempts is a conflict the client retries.
      for (let attempt = 1; ; attempt++) {
        const now = clock.now();
        const guards = createGuards(postId, communityId, parentId, author);
        try {
          const created = await store.write(async (tx) => {
            // One batch, in this order, with the COMMIT right behind it (one round trip on
            // PostgreSQL): the parent row's lock comes before the post row's (the lock order
            // of every comment change: a vote on the parent locks it, then the post), which is
            // held only while the server runs the insert.
            const made: { row?: q.CommentRow } = {}; // after the insert's answer, for the kept tree
            const effects = Promise.all([
              parentId === null ? null : tx.run(q.ADD_CHILDREN, [1, parentId]),
              // The author's own upvote is recorded at creation (it earns no karma).
              votes.first(tx, 'comment', id, author, 1),
              search.index(tx, 'comments', id, '', input.body),
              outbox.record(tx, 'comment.created', {
                commentId: id,
                postId,
                authorId: author,
                parentId,
                mentions: mentionsIn(input.body),
              }),
              threadChanged(
                tx,
                postId,
                communityId,
                1,
                () => made.row && { row: made.row, usernames: new Map([[author, principal.username]]) },
              ),
            ]);
            const statement = q.insert(
              { id, postId, parentId, authorId: author, body: input.body, now },
              allOf(guards),
              posts.commentVersionValue(postId),
            );
            const insert = tx.get<{ depth: number; version: number }>(statement.sql, statement.params);
            tx.commitEarly();
            const [, inserted] = await Promise.all([effects, insert]);
            if (!inserted) throw new Error('the comment insert returned no row');
            const row: q.CommentRow = {
              id,
              post_id: postId,
              parent_id: parentId,
              author_id: author,
              body: input.body,
              depth: inserted.depth,
              upvotes: 1,
              downvotes: 0,
              child_count: 0,
              created_at: now,
              edited_at: null,
              deleted_at: null,
              removed_at: null,
              removal_reason: null,
              version: inserted.version,
            };
            made.row = row;
            return row;
          });
          return { ...fromRow(created, principal.username), myVote: 1 };
        } catch (error) {
          // NOT NULL: a guard refused; a foreign key: no such parent (or post) by now.
          if (!(error instanceof StoreError && (error.kind === 'not_null' || error.kind === 'foreign_key')))
            throw error;
          const refused = await broken(store.q, guards);
          if (refused) throw refused.refusal();
          if (attempt === 3)
            throw new AppError('write_conflict', 'the post or the parent comment kept changing; try again');
        }
      }
    },

    /** A post's comment tree as JSON text (see `select`). */
    async tree(postId: string, query: TreeQuery, principal: Principal | null): Promise<string | Buffer> {
      const thread = await tree(postId);
      return answer(thread, thread.root, query, principal);
    },

    /**
     * A post's comment tree apart from the reader: the JSON text every reader shares (kept
     * bytes: the same object until the thread changes) and the reader's votes on the comments
     * it shows and on the post (one statement). A page keeps what it makes from the shared
     * text and adds the votes per reader.
     */
    async sharedTree(
      postId: string,
      query: TreeQuery,
      principal: Principal | null,
    ): Promise<{ text: Buffer; votes: ReadonlyMap<string, VoteValue>; postVote: VoteValue }> {
      const thread = await tree(postId);
      const { text, shownIds } = await shared(thread, thread.root, query);
      if (!principal) return { text: text(), votes: new Map(), postVote: 0 }; // no reader, no votes
      const mine = await votes.mineOf(principal.accountId, { post: [postId], comment: shownIds() });
      return { text: text(), votes: mine.comment, postVote: mine.post.get(postId) ?? 0 };
    },

    /** A comment with its subtree as JSON text: continue-this-thread and load-more. */
    async subtree(id: string, query: TreeQuery, principal: Principal | null): Promise<string | Buffer> {
      const { post_id: postId } = await row(id);
      let thread = await tree(postId);
      let node = thread.nodes.get(id);
      if (!node) {
        // Committed by another process after this tree's version: catch up once.
        thread = await refresh(postId);
        node = thread.nodes.get(id);
      }
      if (!node) throw new AppError('not_found', 'no such comment');
      return answer(thread, node, query, principal);
    },

    async edit(id: string, input: { body: string }, principal: Principal): Promise<Comment> {
      await authored(id, principal);
      await change(id, async (tx, comment, { communityId }) => {
        if (comment.deleted_at !== null) throw new AppError('not_found', 'this comment was deleted');
        await moderation.assertNotBanned(communityId, principal.accountId, tx);
        await Promise.all([
          tx.run(q.EDIT, [input.body, clock.now(), id]),
          comment.removed_at === null ? search.index(tx, 'comments', id, '', input.body) : null,
        ]);
        return { countDelta: 0, result: true };
      });
      return (await present([await row(id)], principal))[0] as Comment;
    },

    /** Soft delete (author): the node stays with its replies; body and author are hidden. Idempotent. */
    async remove(id: string, principal: Principal): Promise<void> {
      const comment = await row(id);
      if (comment.author_id !== principal.accountId)
        throw new AppError('forbidden', 'only the author may delete a comment');
      await change(id, async (tx, c) => {
        if ((await tx.run(q.DELETE, [clock.now(), id])) === 0) return null;
        await search.remove(tx, 'comments', id);
        return { countDelta: c.removed_at === null ? -1 : 0, result: true };
      });
    },

    /** Up, down or clear (0), as for posts: idempotent; the author's comment karma moves by votes from others. */
    async vote(id: string, value: VoteValue, principal: Principal) {
      const counts = await change(id, async (tx, comment, { communityId }) => {
        if (!q.shown(comment)) return null;
        const [, cast] = await Promise.all([
          moderation.assertNotBanned(communityId, principal.accountId, tx),
          votes.cast(tx, 'comment', id, principal.accountId, value),
        ]);
        if (cast.up === 0 && cast.down === 0)
          return { countDelta: 0, result: { upvotes: comment.upvotes, downvotes: comment.downvotes }, unchanged: true };
        const upvotes = comment.upvotes + cast.up;
        const downvotes = comment.downvotes + cast.down;
        const others =
          comment.author_id !== null && comment.author_id !== principal.accountId ? comment.author_id : null;
        await Promise.all([
          tx.run(q.SET_VOTES, [upvotes, downvotes, id]),
          others ? accounts.addKarma(tx, others, { comment: cast.up - cast.down }) : null,
        ]);
        return { countDelta: 0, result: { upvotes, downvotes } };
      });
      if (!counts) throw new AppError('not_found', 'no such comment, or it was deleted or removed');
      return {
        score: counts.upvotes - counts.downvotes,
        upvotes: counts.upvotes,
        downvotes: counts.downvotes,
        myVote: value,
      };
    },

    /** Moderator removal with a reason: the node stays, its body is hidden, it leaves search. */
    async removeAsModerator(id: string, reason: string, principal: Principal): Promise<Comment> {
      await change(id, async (tx, comment, { communityId }) => {
        await moderation.assertModerator(communityId, principal, tx);
        if ((await tx.run(q.REMOVE, [clock.now(), reason, id])) === 0) return null;
        await search.remove(tx, 'comments', id);
        await moderation.resolveReportsOn(tx, 'comment', id, principal.accountId);
        await moderation.log(tx, {
          communityId,
          moderatorId: principal.accountId,
          action: 'remove_comment',
          targetType: 'comment',
          targetId: id,
          reason,
        });
        return { countDelta: comment.deleted_at === null ? -1 : 0, result: true };
      });
      return (await present([await row(id)], principal))[0] as Comment;
    },

    async restoreAsModerator(id: string, principal: Principal): Promise<Comment> {
      await change(id, async (tx, comment, { communityId }) => {
        await moderation.assertModerator(communityId, principal, tx);
        if ((await tx.run(q.RESTORE, [id])) === 0) return null;
        if (comment.deleted_at === null && comment.body !== null)
          await search.index(tx, 'comments', id, '', comment.body);
        await moderation.log(tx, {
          communityId,
          moderatorId: principal.accountId,
          action: 'restore_comment',
          targetType: 'comment',
          targetId: id,
        });
        return { countDelta: comment.deleted_at === null ? 1 : 0, result: true };
      });
      return (await present([await row(id)], principal))[0] as Comment;
    },

    async report(id: string, reason: string, principal: Principal) {
      const comment = await row(id);
      if (!q.shown(comment)) throw new AppError('not_found', 'this comment was deleted or removed');
      const communityId = await posts.communityIdOf(comment.post_id);
      return moderation.report({ communityId, targetType: 'comment', targetId: id, reason }, principal);
    },

    /** A user's comments, newest first (deleted and removed ones left out): a read that may be a little behind (a replica). */
    async byAuthor(
      username: string,
      input: { limit: number; cursor?: string | undefined },
      principal: Principal | null,
    ) {
      const authorId = await accounts.idOf(username);
      const after = input.cursor ? cursors.decode('comments:by-author', input.cursor, ['id'])[0] : null;
      const rows = after
        ? await store.replica.all<q.CommentRow>(q.BY_AUTHOR_AFTER, [authorId, after, input.limit + 1])
        : await store.replica.all<q.CommentRow>(q.BY_AUTHOR, [authorId, input.limit + 1]);
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      return {
        items: await present(page, principal),
        nextCursor: rows.length > input.limit && last ? cursors.encode('comments:by-author', [last.id]) : null,
      };
    },

    threadChanged,

    /** Comments by id for search results and the inbox, in the given order; `shownOnly` drops deleted and removed ones. */
    async byIds(commentIds: string[], principal: Principal | null, shownOnly = true): Promise<Comment[]> {
      if (commentIds.length === 0) return [];
      const found = await allIn(commentIds, (slice) => store.q.all<q.CommentRow>(q.byIds(slice.length), slice));
      const byId = new Map(
        found.filter((r) => !shownOnly || (r.deleted_at === null && r.removed_at === null)).map((r) => [r.id, r]),
      );
      return present(
        commentIds.map((id) => byId.get(id)).filter((r): r is q.CommentRow => r !== undefined),
        principal,
      );
    },
  };
}

export type CommentsService = ReturnType<typeof createCommentsService>;
