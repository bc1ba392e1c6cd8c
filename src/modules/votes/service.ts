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
/** One statement for several kinds' lists, by their sizes (each text made once). */
const mineOfTexts = new Map<string, string>();
const mineOfSql = (sizes: number[]) => {
  const key = sizes.join(',');
  let sql = mineOfTexts.get(key);
  if (sql === undefined) mineOfTexts.set(key, (sql = sizes.map(mineSql).join(' UNION ALL ')));
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
      const kinds = (Object.keys(asked) as VoteTarget[]).filter((kind) => asked[kind].length > 0);
      if (kinds.some((kind) => asked[kind].length > IN_LIST_MAX)) {
        const [post, comment] = await Promise.all([
          mine(accountId, 'post', asked.post),
          mine(accountId, 'comment', asked.comment),
        ]);
        return { post, comment };
      }
      const out: Record<VoteTarget, Map<string, VoteValue>> = { post: new Map(), comment: new Map() };
      if (kinds.length === 0) return out;
      const params: string[] = [];
      for (const kind of kinds) params.push(accountId, kind, ...asked[kind]);
      const found = await store.q.all<{ target_type: VoteTarget; target_id: string; value: number }>(
        mineOfSql(kinds.map((kind) => asked[kind].length)),
        params,
      );
      for (const r of found) out[r.target_type].set(r.target_id, r.value as VoteValue);
      return out;
    },
  };
}

export type VotesService = ReturnType<typeof createVotesService>;
