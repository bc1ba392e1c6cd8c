import type { AccountsModule } from '../accounts/index.js';
import type { CommunitiesModule } from '../communities/index.js';
import type { VoteValue, VotesModule } from '../votes/index.js';
import type { Principal } from '../../platform/principal.js';
import type { PostRow } from './queries.js';

export interface Post {
  id: string;
  communityName: string;
  author: string | null;
  title: string;
  body: string | null;
  url: string | null;
  score: number;
  upvotes: number;
  downvotes: number;
  commentCount: number;
  createdAt: number;
  editedAt: number | null;
  locked: boolean;
  removed: boolean;
  deleted: boolean;
  removalReason?: string | null;
  myVote?: VoteValue;
}

/**
 * Rows -> public posts, one query each for authors, community names and the
 * viewer's votes (no N+1). A deleted post keeps its shell (title, counts)
 * with body, url and author null; a removed one shows body and url only to
 * the community's moderators (and site admins).
 */
export function createPresenter(deps: {
  accounts: AccountsModule;
  communities: CommunitiesModule;
  votes: VotesModule;
}) {
  const { accounts, communities, votes } = deps;

  /** With `myVote: false` the reader's votes are not looked up (the caller has them). */
  async function many(
    rows: PostRow[],
    principal: Principal | null,
    options: { myVote?: boolean } = {},
  ): Promise<Post[]> {
    if (rows.length === 0) return [];
    const [authors, refs, mine] = await Promise.all([
      accounts.usernames(rows.map((r) => r.author_id)),
      communities.refsByIds(rows.map((r) => r.community_id)),
      principal && options.myVote !== false
        ? votes.mine(
            principal.accountId,
            'post',
            rows.map((r) => r.id),
          )
        : Promise.resolve(null),
    ]);
    const modOf = new Map<string, boolean>();
    for (const r of rows) {
      if (r.removed_at !== null && principal && !modOf.has(r.community_id)) {
        modOf.set(r.community_id, await communities.canModerate(r.community_id, principal));
      }
    }
    return rows.map((r) => {
      const deleted = r.deleted_at !== null;
      const removed = r.removed_at !== null;
      const isMod = modOf.get(r.community_id) === true;
      const hidden = deleted || (removed && !isMod);
      const post: Post = {
        id: r.id,
        communityName: refs.get(r.community_id)?.name ?? '',
        author: deleted ? null : (authors.get(r.author_id) ?? null),
        title: r.title,
        body: hidden ? null : r.body,
        url: hidden ? null : r.url,
        score: r.score,
        upvotes: r.upvotes,
        downvotes: r.downvotes,
        commentCount: r.comment_count,
        createdAt: r.created_at,
        editedAt: r.edited_at,
        locked: r.locked === 1,
        removed,
        deleted,
      };
      if (removed && isMod) post.removalReason = r.removal_reason;
      if (mine) post.myVote = mine.get(r.id) ?? 0;
      return post;
    });
  }

  return {
    many,
    one: async (row: PostRow, principal: Principal | null, options?: { myVote?: boolean }): Promise<Post> =>
      (await many([row], principal, options))[0] as Post,
  };
}

export type Presenter = ReturnType<typeof createPresenter>;
