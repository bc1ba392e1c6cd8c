import type { AccountsModule } from '../accounts/index.js';
import type { CommunitiesModule } from '../communities/index.js';
import type { ModerationModule } from '../moderation/index.js';
import type { SearchModule } from '../search/index.js';
import type { VoteValue, VotesModule } from '../votes/index.js';
import type { Cursors } from '../../platform/cursor.js';
import type { MemoryBudget } from '../../platform/memory.js';
import type { Clock } from '../../platform/clock.js';
import { createReadCache } from '../../platform/cache.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Outbox } from '../../platform/outbox/index.js';
import {
  HEARD_MAX_AGE_MS,
  type Fragment,
  type Guard,
  type Param,
  type Queryable,
  type Store,
  type Tx,
} from '../../platform/store/index.js';
import { createListings } from './listings.js';
import { createPageCache } from './page-cache.js';
import { createPresenter, type Post } from './presenter.js';
import * as q from './queries.js';
import { controversy, hot } from './ranks.js';

export interface PostsDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  outbox: Outbox;
  accounts: AccountsModule;
  communities: CommunitiesModule;
  moderation: ModerationModule;
  votes: VotesModule;
  search: SearchModule;
  /** On a store shared by several processes: how stale a kept listing page may be (0: none kept). */
  cacheTtlMs: number;
  /** Subscriptions up to which the feed merges per-community pages. */
  feedMergeLimit: number;
  cursors: Cursors;
  memory: MemoryBudget;
}

export function createPostsService(deps: PostsDeps) {
  const { store, clock, ids, outbox, accounts, communities, moderation, votes, search } = deps;
  const present = createPresenter(deps);
  const pages = createPageCache({
    exact: () => store.capabilities.exactCopies,
    ttlMs: deps.cacheTtlMs,
    heardMaxAgeMs: HEARD_MAX_AGE_MS, // on PostgreSQL, while other processes' changes are heard
    notices: store.notices,
    position: () => store.writePosition(),
    maxEntries: 20_000,
    now: () => clock.now(),
    memory: deps.memory,
  });
  store.onReplaced(() => pages.clear());
  const listings = createListings({ ...deps, present, pages });
  // A post never moves to another community: the copy is exact on any store.
  const communityOfPost = createReadCache<string, string>({
    exact: true,
    ttlMs: 0,
    maxEntries: 10_000,
    now: () => clock.now(),
  });

  /**
   * The community a post is in (not_found: no such post); a post never moves, so the answer is kept.
   * `within`: the caller's transaction, when it has one (a transaction must not wait for a second connection).
   */
  async function communityIdOf(id: string, within: Queryable = store.q): Promise<string> {
    const found = await communityOfPost.get(id, async () => (await within.get<q.PostRow>(q.BY_ID, [id]))?.community_id);
    if (found === undefined) throw new AppError('not_found', 'no such post');
    return found;
  }

  /**
   * The one way to change posts rows: runs a statement on posts of the community
   * and, if it changed any, drops the community's kept listing pages after the
   * commit (`listed` null: the statement changes nothing a listing shows).
   * `writePostReturning` is the same for a statement with `RETURNING`.
   */
  async function writePosts(tx: Tx, listed: string | null, sql: string, params: Param[]): Promise<number> {
    const changed = await tx.run(sql, params);
    if (listed !== null && changed > 0) pages.changed(tx, listed);
    return changed;
  }
  async function writePostReturning<T>(tx: Tx, listed: string | null, sql: string, params: Param[]) {
    const changed = await tx.get<T>(sql, params);
    if (listed !== null && changed !== undefined) pages.changed(tx, listed);
    return changed;
  }

  async function row(id: string): Promise<q.PostRow> {
    const found = await store.q.get<q.PostRow>(q.BY_ID, [id]);
    if (!found) throw new AppError('not_found', 'no such post');
    return found;
  }

  async function authored(id: string, principal: Principal): Promise<q.PostRow> {
    const post = await row(id);
    if (post.deleted_at !== null) throw new AppError('not_found', 'this post was deleted');
    if (post.author_id !== principal.accountId) throw new AppError('forbidden', 'only the author may do this');
    return post;
  }

  const searchText = (post: { body: string | null; url: string | null }) =>
    [post.body, post.url].filter(Boolean).join('\n');

  async function moderate(
    id: string,
    principal: Principal,
    change: (tx: Tx, post: q.PostRow) => Promise<boolean>,
  ): Promise<Post> {
    const post = await row(id);
    await moderation.assertModerator(post.community_id, principal);
    await store.write(async (tx) => {
      await change(tx, post);
    });
    return present.one(await row(id), principal);
  }

  return {
    ...listings,

    async create(
      communityName: string,
      input: { title: string; body?: string | undefined; url?: string | undefined },
      principal: Principal,
    ): Promise<Post> {
      const community = await communities.ref(communityName);
      await moderation.assertNotBanned(community.id, principal.accountId);
      const id = ids.next();
      const now = clock.now();
      const body = input.body ?? null;
      const url = input.url ?? null;
      await store.write(async (tx) => {
        await writePosts(tx, community.id, q.INSERT, [
          id,
          community.id,
          principal.accountId,
          input.title,
          body,
          url,
          hot(1, 0, now),
          now,
        ]);
        // The author's own upvote is recorded at creation (it earns no karma).
        await votes.first(tx, 'post', id, principal.accountId, 1);
        await search.index(tx, 'posts', id, input.title, searchText({ body, url }));
        await outbox.record(tx, 'post.created', {
          postId: id,
          communityId: community.id,
          authorId: principal.accountId,
        });
      });
      return present.one(await row(id), principal);
    },

    /**
     * A post as `principal` sees it; with `myVote: false`, without their vote looked up (a post
     * page has it). Its row is kept with its community's listing pages (a page of one row,
     * dropped by the same changes, read from a replica at the same floor).
     */
    async get(id: string, principal: Principal | null, options?: { myVote?: boolean }): Promise<Post> {
      const communityId = await communityIdOf(id);
      const [found] = await pages.rows(`post|${id}`, communityId, async () => {
        const post = await store.replica.get<q.PostRow>(q.BY_ID, [id]);
        return post ? [post] : [];
      });
      if (!found) throw new AppError('not_found', 'no such post');
      return present.one(found, principal, options);
    },

    /** Posts by id for search results: only visible ones, in the given order. */
    async visibleByIds(postIds: string[], principal: Principal | null): Promise<Post[]> {
      if (postIds.length === 0) return [];
      const rows = await store.q.all<q.PostRow>(q.byIds(postIds.length), postIds);
      const byId = new Map(rows.filter((r) => r.visible === 1).map((r) => [r.id, r]));
      return present.many(
        postIds.map((id) => byId.get(id)).filter((r): r is q.PostRow => r !== undefined),
        principal,
      );
    },

    async edit(id: string, input: { body: string }, principal: Principal): Promise<Post> {
      const post = await authored(id, principal);
      await store.write(async (tx) => {
        await moderation.assertNotBanned(post.community_id, principal.accountId, tx);
        await writePosts(tx, post.community_id, q.EDIT, [input.body, clock.now(), id]);
        if (post.visible === 1)
          await search.index(tx, 'posts', id, post.title, searchText({ body: input.body, url: post.url }));
      });
      return present.one(await row(id), principal);
    },

    /** Soft delete: the shell stays (title, counts), body and author are hidden. Idempotent. */
    async remove(id: string, principal: Principal): Promise<void> {
      const post = await row(id);
      if (post.author_id !== principal.accountId) throw new AppError('forbidden', 'only the author may delete a post');
      await store.write(async (tx) => {
        if ((await writePosts(tx, post.community_id, q.DELETE, [clock.now(), id])) > 0) {
          await search.remove(tx, 'posts', id);
          await outbox.record(tx, 'post.deleted', { postId: id });
        }
      });
    },

    /**
     * Up, down or clear (0). Idempotent; the author's karma moves by votes
     * from others only. One transaction: the post row is read and locked
     * (`LOCK_FOR_VOTE`), the ban checked, the vote row changed, then the
     * counters and ranks written in one statement.
     */
    async vote(id: string, value: VoteValue, principal: Principal) {
      const counts = await store.write(async (tx) => {
        const post = await tx.get<q.VoteTargetRow>(q.LOCK_FOR_VOTE[store.dialect], [id]);
        if (!post) return null;
        await moderation.assertNotBanned(post.community_id, principal.accountId, tx);
        const change = await votes.cast(tx, 'post', id, principal.accountId, value);
        if (change.up === 0 && change.down === 0) return post;
        const upvotes = post.upvotes + change.up;
        const downvotes = post.downvotes + change.down;
        await writePosts(tx, post.community_id, q.SET_VOTES, [
          upvotes,
          downvotes,
          upvotes - downvotes,
          hot(upvotes, downvotes, post.created_at),
          controversy(upvotes, downvotes),
          id,
        ]);
        if (post.author_id !== principal.accountId)
          await accounts.addKarma(tx, post.author_id, { post: change.up - change.down });
        return { upvotes, downvotes };
      });
      if (!counts) throw new AppError('not_found', 'no such post, or it was deleted or removed');
      return {
        score: counts.upvotes - counts.downvotes,
        upvotes: counts.upvotes,
        downvotes: counts.downvotes,
        myVote: value,
      };
    },

    /** Moderator removal with a reason: the post leaves listings and search; mods still see it. */
    removeAsModerator: (id: string, reason: string, principal: Principal) =>
      moderate(id, principal, async (tx, post) => {
        if ((await writePosts(tx, post.community_id, q.REMOVE, [clock.now(), reason, id])) === 0) return false;
        await search.remove(tx, 'posts', id);
        await moderation.resolveReportsOn(tx, 'post', id, principal.accountId);
        await moderation.log(tx, {
          communityId: post.community_id,
          moderatorId: principal.accountId,
          action: 'remove_post',
          targetType: 'post',
          targetId: id,
          reason,
        });
        return true;
      }),

    restoreAsModerator: (id: string, principal: Principal) =>
      moderate(id, principal, async (tx, post) => {
        if ((await writePosts(tx, post.community_id, q.RESTORE, [id])) === 0) return false;
        if (post.deleted_at === null) await search.index(tx, 'posts', id, post.title, searchText(post));
        await moderation.log(tx, {
          communityId: post.community_id,
          moderatorId: principal.accountId,
          action: 'restore_post',
          targetType: 'post',
          targetId: id,
        });
        return true;
      }),

    setLocked: (id: string, locked: boolean, principal: Principal) =>
      moderate(id, principal, async (tx, post) => {
        if ((await writePosts(tx, post.community_id, q.SET_LOCKED, [locked ? 1 : 0, id, locked ? 1 : 0])) === 0)
          return false;
        await moderation.log(tx, {
          communityId: post.community_id,
          moderatorId: principal.accountId,
          action: locked ? 'lock_post' : 'unlock_post',
          targetType: 'post',
          targetId: id,
        });
        return true;
      }),

    /** For the comments module: the rules a new comment on the post meets, to be checked in the comment's insert. */
    commentGuards(id: string): Guard[] {
      return [
        {
          sql: q.SHOWN_GUARD,
          params: [id],
          refusal: () => new AppError('not_found', 'this post was deleted or removed'),
        },
        {
          sql: q.UNLOCKED_GUARD,
          params: [id],
          refusal: () => new AppError('post_locked', 'this post is locked: no new comments'),
        },
      ];
    },

    /** The post's comment change number as a value of a comment statement (after `commentsChanged` in its transaction: the new number). */
    commentVersionValue(id: string): Fragment {
      return { sql: q.COMMENT_VERSION_VALUE, params: [id] };
    },

    /**
     * Records a change to the post's comments and the shown-comment count's
     * delta; returns the post's new change number, taken under the lock this
     * takes (the post row, until the transaction ends).
     */
    async commentsChanged(tx: Tx, id: string, communityId: string, countDelta: number): Promise<{ version: number }> {
      // The change number alone is not shown in listings; the count is.
      const post = await writePostReturning<{ comment_version: number }>(
        tx,
        countDelta !== 0 ? communityId : null,
        q.COMMENTS_CHANGED,
        [countDelta, id],
      );
      if (!post) throw new AppError('not_found', 'no such post');
      return { version: post.comment_version };
    },

    communityIdOf,

    /** The post's comment change number (undefined: no such post). */
    async commentVersion(within: Queryable, id: string): Promise<number | undefined> {
      return (await within.get<{ comment_version: number }>(q.COMMENT_VERSION, [id]))?.comment_version;
    },

    /** An imported post with its original time and counts (no vote rows), in the importer's transaction. */
    async insertImported(
      tx: Tx,
      post: {
        id: string;
        communityId: string;
        authorId: string;
        title: string;
        body: string | null;
        url: string | null;
        upvotes: number;
        downvotes: number;
        createdAt: number;
      },
    ): Promise<void> {
      const { upvotes: up, downvotes: down } = post;
      await writePosts(tx, post.communityId, q.INSERT_IMPORTED, [
        post.id,
        post.communityId,
        post.authorId,
        post.title,
        post.body,
        post.url,
        up,
        down,
        up - down,
        hot(up, down, post.createdAt),
        controversy(up, down),
        post.createdAt,
      ]);
      await search.index(tx, 'posts', post.id, post.title, searchText(post));
    },

    async report(id: string, reason: string, principal: Principal) {
      const post = await row(id);
      if (post.visible !== 1) throw new AppError('not_found', 'this post was deleted or removed');
      return moderation.report({ communityId: post.community_id, targetType: 'post', targetId: id, reason }, principal);
    },
  };
}

export type PostsService = ReturnType<typeof createPostsService>;
