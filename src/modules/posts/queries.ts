import { rows, type Dialect } from '../../platform/store/index.js';

/** The posts module's SQL. Listings are built from fixed fragments (never from input). */

export interface PostRow {
  id: string;
  community_id: string;
  author_id: string;
  title: string;
  body: string | null;
  url: string | null;
  upvotes: number;
  downvotes: number;
  score: number;
  hot: number;
  controversy: number;
  comment_count: number;
  locked: number;
  visible: number;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  removed_at: number | null;
  removal_reason: string | null;
}

export type Sort = 'hot' | 'new' | 'top' | 'controversial';

const COLUMNS = `id, community_id, author_id, title, body, url, upvotes, downvotes, score, hot, controversy, comment_count,
locked, visible, created_at, edited_at, deleted_at, removed_at, removal_reason`;
const list = (n: number) => rows(n, '?');

/** The stored rank column of each sort (new sorts by id: ids are time-ordered). */
export const RANK: Record<Sort, 'hot' | 'id' | 'score' | 'controversy'> = {
  hot: 'hot',
  new: 'id',
  top: 'score',
  controversial: 'controversy',
};

export const INSERT = `INSERT INTO posts (id, community_id, author_id, title, body, url, upvotes, downvotes, score, hot, controversy,
comment_count, locked, visible, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, 0, 1, ?, 0, 0, 0, 1, ?)`;
export const BY_ID = `SELECT ${COLUMNS} FROM posts WHERE id = ?`;
export const byIds = (n: number) => `SELECT ${COLUMNS} FROM posts WHERE id IN (${list(n)})`;
export interface VoteTargetRow {
  author_id: string;
  community_id: string;
  upvotes: number;
  downvotes: number;
  created_at: number;
}
/**
 * Reads what a vote needs of a visible post, holding its row against
 * concurrent votes until the transaction ends: `FOR UPDATE` on PostgreSQL;
 * on SQLite the one writer already serializes every write transaction.
 */
export const LOCK_FOR_VOTE: Record<Dialect, string> = {
  sqlite: 'SELECT author_id, community_id, upvotes, downvotes, created_at FROM posts WHERE id = ? AND visible = 1',
  postgres:
    'SELECT author_id, community_id, upvotes, downvotes, created_at FROM posts WHERE id = ? AND visible = 1 FOR UPDATE',
};
export const SET_VOTES =
  'UPDATE posts SET upvotes = ?, downvotes = ?, score = ?, hot = ?, controversy = ? WHERE id = ?';
export const EDIT = 'UPDATE posts SET body = ?, edited_at = ? WHERE id = ?';
export const DELETE = 'UPDATE posts SET deleted_at = ?, visible = 0 WHERE id = ? AND deleted_at IS NULL';
export const REMOVE =
  'UPDATE posts SET removed_at = ?, removal_reason = ?, visible = 0 WHERE id = ? AND removed_at IS NULL';
export const RESTORE = `UPDATE posts SET removed_at = NULL, removal_reason = NULL, visible = CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END
WHERE id = ? AND removed_at IS NOT NULL`;
export const SET_LOCKED = 'UPDATE posts SET locked = ? WHERE id = ? AND locked <> ?';

export const BY_AUTHOR = `SELECT ${COLUMNS} FROM posts WHERE author_id = ? AND deleted_at IS NULL AND removed_at IS NULL ORDER BY id DESC LIMIT ?`;
export const BY_AUTHOR_AFTER = `SELECT ${COLUMNS} FROM posts WHERE author_id = ? AND deleted_at IS NULL AND removed_at IS NULL AND id < ?
ORDER BY id DESC LIMIT ?`;

export interface ListingShape {
  sort: Sort;
  /** 'one': one community; 'many': an IN list of n communities; 'all': every community. */
  scope: 'one' | 'many' | 'all';
  n?: number;
  /**
   * A time window (top/controversial with t): `narrow` when it holds at most
   * WINDOW_SCAN_MAX posts of the scope (read by id range, then ranked),
   * `wide` otherwise (the rank index, filtered by id range); false: none.
   */
  window: 'narrow' | 'wide' | false;
  after: boolean;
}

/**
 * Posts a narrow window may hold: one read of at most this many rows by id
 * range (ids are time-ordered) answers it. A wider window is walked by its
 * rank index, where more than WINDOW_SCAN_MAX of the scope's posts are in
 * the window, so a page examines about limit × (posts / WINDOW_SCAN_MAX)
 * index entries, never the whole index for a handful of recent posts.
 */
export const WINDOW_SCAN_MAX = 5000;

const scopeWhere = (shape: Pick<ListingShape, 'scope' | 'n'>) =>
  shape.scope === 'one'
    ? ' AND community_id = ?'
    : shape.scope === 'many'
      ? ` AND community_id IN (${list(shape.n ?? 1)})`
      : '';

/** How many of the scope's posts a window holds, up to WINDOW_SCAN_MAX + 1. Parameters: community id(s), lowest id, snapshot bound. */
export const windowSize = (shape: Pick<ListingShape, 'scope' | 'n'>) =>
  `SELECT COUNT(*) AS n FROM (SELECT id FROM posts WHERE visible = 1${scopeWhere(shape)} AND id >= ? AND id <= ? LIMIT ${WINDOW_SCAN_MAX + 1}) w`;

/**
 * A listing query. Parameters, in order: community id(s); for a window its
 * lowest id and start (created_at); the snapshot bound (max id, rank sorts);
 * the cursor (rank, id or id); the limit. On SQLite a many-community listing
 * walks the global rank index (the planner would otherwise sort every
 * matching row).
 */
export function listing(dialect: Dialect, shape: ListingShape): string {
  const rank = RANK[shape.sort];
  const order = rank === 'id' ? 'id DESC' : `${rank} DESC, id DESC`;
  // A row-value comparison: both stores use it as an index range, so a deep page costs what the first does.
  const after = shape.after ? (rank === 'id' ? ' AND id < ?' : ` AND (${rank}, id) < (?, ?)`) : '';
  if (shape.window === 'narrow') {
    return `SELECT ${COLUMNS} FROM (SELECT ${COLUMNS} FROM posts WHERE visible = 1${scopeWhere(shape)} AND id >= ? AND created_at >= ? AND id <= ?
ORDER BY id DESC LIMIT ${WINDOW_SCAN_MAX + 1}) w WHERE 1 = 1${after} ORDER BY ${order} LIMIT ?`;
  }
  const where = ['visible = 1'];
  if (shape.scope === 'one') where.push('community_id = ?');
  if (shape.scope === 'many') where.push(`community_id IN (${list(shape.n ?? 1)})`);
  if (shape.window === 'wide') where.push('id >= ?', 'created_at >= ?');
  if (rank !== 'id') where.push('id <= ?');
  const index =
    dialect === 'sqlite' && shape.scope === 'many' && !shape.window ? ` INDEXED BY posts_${shape.sort}` : '';
  return `SELECT ${COLUMNS} FROM posts${index} WHERE ${where.join(' AND ')}${after} ORDER BY ${order} LIMIT ?`;
}

/**
 * The rules a new comment on a post meets, as guards of the comment's own
 * insert (`service.commentGuards`): the post is shown (neither deleted nor
 * removed), and it is not locked. Scalar subqueries: a missing post is NULL,
 * which no guard takes.
 */
export const SHOWN_GUARD = '(SELECT visible FROM posts WHERE id = ?) = 1';
export const UNLOCKED_GUARD = '(SELECT locked FROM posts WHERE id = ?) = 0';
/** The post's comment change number, as a value in another statement. */
export const COMMENT_VERSION_VALUE = '(SELECT comment_version FROM posts WHERE id = ?)';
/**
 * A change to the post's comments: the post's next change number, taken
 * under the post row's lock until the transaction ends — so a post's change
 * numbers commit in the order they are given. Comment changes take it as
 * their last step (after the comment rows they lock), holding it briefly.
 */
export const COMMENTS_CHANGED = `UPDATE posts SET comment_version = comment_version + 1, comment_count = comment_count + ?
WHERE id = ? RETURNING comment_version`;
export const COMMENT_VERSION = 'SELECT comment_version FROM posts WHERE id = ?';
export const INSERT_IMPORTED = `INSERT INTO posts (id, community_id, author_id, title, body, url, upvotes, downvotes, score, hot, controversy,
comment_count, locked, visible, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 1, ?)`;
