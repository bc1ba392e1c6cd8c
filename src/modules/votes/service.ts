import type { Clock } from '../../platform/clock.js';
import { allIn, bySize, IN_LIST_MAX, rows, type Store, type Tx } from '../../platform/store/index.js';

export type VoteValue = -1 | 0 | 1;
export type VoteTarget = 'post' | 'comment';

/** How a vote changed the target's counters. */
export interface VoteChange {
  previous: VoteValue;
  up: number;
  down: number;
}

const GET = 'SELECT value FROM votes WHERE target_type = ? AND target_id = ? AND account_id = ?';
const UPSERT = `INSERT INTO votes (target_type, target_id, account_id, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (target_type, target_id, account_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
const DELETE = 'DELETE FROM votes WHERE target_type = ? AND target_id = ? AND account_id = ?';
const mineOne = (n: number) =>
  `SELECT target_type, target_id, value FROM votes WHERE account_id = ? AND target_type = ? AND target_id IN (${rows(n, '?')})`;
const mineSql = bySize(mineOne);
/** Posts' and comments' lookups in one statement, by the two lists' sizes (each text made once). */
const bothTexts = new Map<string, string>();
const mineBothSql = (posts: number, comments: number) => {
  const key = `${posts},${comments}`;
  let sql = bothTexts.get(key);
  if (sql === undefined) bothTexts.set(key, (sql = `${mineSql(posts)} UNION ALL ${mineSql(comments)}`));
  return sql;
};

/**
 * Votes: one per account and target. The owner of the target keeps the
 * counters; it calls `cast` in its transaction after locking the target
 * row, so that concurrent votes on one target are serialized.
 */
export interface VotesDeps {
  store: Store;
  clock: Clock;
}

export function createVotesService(deps: VotesDeps) {
  const { store, clock } = deps;
  async function mine(accountId: string, target: VoteTarget, targetIds: readonly string[]) {
    const rows = await allIn(targetIds, (slice) =>
      store.q.all<{ target_id: string; value: number }>(mineSql(slice.length), [accountId, target, ...slice]),
    );
    return new Map(rows.map((r) => [r.target_id, r.value as VoteValue]));
  }
  return {
    /** The first vote on a target created in this transaction (its author's own): nothing to look up first. */
    async first(tx: Tx, target: VoteTarget, targetId: string, accountId: string, value: -1 | 1): Promise<void> {
      const now = clock.now();
      await tx.run(UPSERT, [target, targetId, accountId, value, now, now]);
    },

    async cast(tx: Tx, target: VoteTarget, targetId: string, accountId: string, value: VoteValue): Promise<VoteChange> {
      const row = await tx.get<{ value: number }>(GET, [target, targetId, accountId]);
      const previous = (row?.value ?? 0) as VoteValue;
      if (previous === value) return { previous, up: 0, down: 0 };
      const now = clock.now();
      if (value === 0) await tx.run(DELETE, [target, targetId, accountId]);
      else await tx.run(UPSERT, [target, targetId, accountId, value, now, now]);
      return {
        previous,
        up: (value === 1 ? 1 : 0) - (previous === 1 ? 1 : 0),
        down: (value === -1 ? 1 : 0) - (previous === -1 ? 1 : 0),
      };
    },

    /** The account's votes on these targets (absent = no vote). */
    mine,

    /**
     * The account's votes on targets of both kinds (a post page's: the post and its comments),
     * in one statement while each list fits one IN list: on PostgreSQL one round trip, not two.
     */
    async mineOf(
      accountId: string,
      asked: Record<VoteTarget, readonly string[]>,
    ): Promise<Record<VoteTarget, Map<string, VoteValue>>> {
      const { post, comment } = asked;
      // Both lists, each within one IN list: one statement. Otherwise each kind on its own (none for an empty list).
      if (post.length === 0 || comment.length === 0 || post.length > IN_LIST_MAX || comment.length > IN_LIST_MAX) {
        const [posts, comments] = await Promise.all([
          mine(accountId, 'post', post),
          mine(accountId, 'comment', comment),
        ]);
        return { post: posts, comment: comments };
      }
      const out: Record<VoteTarget, Map<string, VoteValue>> = { post: new Map(), comment: new Map() };
      const found = await store.q.all<{ target_type: VoteTarget; target_id: string; value: number }>(
        mineBothSql(post.length, comment.length),
        [accountId, 'post', ...post, accountId, 'comment', ...comment],
      );
      for (const r of found) out[r.target_type].set(r.target_id, r.value as VoteValue);
      return out;
    },
  };
}

export type VotesService = ReturnType<typeof createVotesService>;
