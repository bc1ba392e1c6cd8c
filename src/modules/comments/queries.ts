import { rows, sql, type Dialect, type Fragment } from '../../platform/store/index.js';

/** The comments module's SQL: portable across SQLite and PostgreSQL. */

export interface CommentRow {
  id: string;
  post_id: string;
  parent_id: string | null;
  author_id: string | null;
  body: string | null;
  depth: number;
  upvotes: number;
  downvotes: number;
  child_count: number;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  removed_at: number | null;
  removal_reason: string | null;
  version: number;
}

/**
 * Levels of nesting a thread may have (depth 0 to MAX_DEPTH - 1): a reply to a
 * comment at the deepest level is refused. Bounds the work a change does
 * along a comment's ancestors, and the recursion of anything that walks a
 * thread.
 */
export const MAX_DEPTH = 100;

/** A comment neither deleted nor removed: in SQL, and of a row read. */
const SHOWN = 'deleted_at IS NULL AND removed_at IS NULL';
export const shown = (row: Pick<CommentRow, 'deleted_at' | 'removed_at'>) =>
  row.deleted_at === null && row.removed_at === null;
const COLUMNS = `id, post_id, parent_id, author_id, body, depth, upvotes, downvotes, child_count, created_at, edited_at, deleted_at,
removed_at, removal_reason, version`;

export const BY_ID = `SELECT ${COLUMNS} FROM comments WHERE id = ?`;
export const byIds = (n: number) => `SELECT ${COLUMNS} FROM comments WHERE id IN (${rows(n, '?')})`;
/** What changed in a thread since the change number a tree holds (an index range; since 0: the whole thread). */
export const OF_POST_SINCE = `SELECT ${COLUMNS} FROM comments WHERE post_id = ? AND version > ?`;
/**
 * A thread's rows in (version, id) order, a chunk at a time after a (version, id) key: an
 * index range. A row changed during the walk moves to a higher version, ahead of the walk,
 * so the walk meets every row at least once.
 */
export const OF_POST_CHUNK = `SELECT ${COLUMNS} FROM comments WHERE post_id = ? AND (version, id) > (?, ?) ORDER BY version, id LIMIT ?`;

/**
 * The rules of a reply that are the comments module's own, as guards of the
 * reply's insert: the parent is a shown comment of the same post (parameters:
 * parent, post), and above the deepest level (parameter: parent). Scalar
 * subqueries: as `EXISTS (…)` SQLite ran the insert 4–5 times slower.
 */
export const PARENT_IN_POST = `(SELECT post_id FROM comments WHERE id = ? AND ${SHOWN}) = ?`;
export const PARENT_ABOVE_DEEPEST = `(SELECT depth FROM comments WHERE id = ?) < ${MAX_DEPTH - 1}`;

/**
 * A new comment, its rules checked by its own statement so that a create is
 * one batch (one round trip on PostgreSQL) with nothing to ask first: its
 * change number (`version`: the post's, taken just before in the same
 * transaction under the post row's lock) is NULL — refused, NOT NULL — unless
 * every guard holds; `service.ts` then asks the guards which one did not. A
 * reply's depth is its parent's + 1.
 */
export function insert(
  c: { id: string; postId: string; parentId: string | null; authorId: string; body: string; now: number },
  guards: Fragment,
  version: Fragment,
): Fragment {
  const depth = c.parentId === null ? sql`0` : sql`(SELECT depth + 1 FROM comments WHERE id = ${c.parentId})`;
  return sql`INSERT INTO comments (id, post_id, parent_id, author_id, body, depth, upvotes, downvotes, child_count, created_at, version)
VALUES (${c.id}, ${c.postId}, ${c.parentId}, ${c.authorId}, ${c.body}, ${depth}, 1, 0, 0, ${c.now}, CASE WHEN ${guards} THEN ${version} END)
RETURNING depth, version`;
}
/** A changed row takes its post's new change number (`version`). */
export const setVersion = (id: string, version: Fragment) =>
  sql`UPDATE comments SET version = ${version} WHERE id = ${id}`;
/**
 * A comment row for a change: on PostgreSQL locked, so that the changes of one comment
 * run in turn. `NO KEY UPDATE` (what an UPDATE takes), not `UPDATE`: a reply's foreign-key
 * check takes `KEY SHARE` on its parent, which `FOR UPDATE` would block — a vote on the
 * parent then waits for the reply's writer while holding what that writer needs next
 * (seen as deadlocks in bench/comments.mjs).
 */
export const FOR_CHANGE: Record<Dialect, string> = { sqlite: BY_ID, postgres: `${BY_ID} FOR NO KEY UPDATE` };
export const ADD_CHILDREN = 'UPDATE comments SET child_count = child_count + ? WHERE id = ?';
export const SET_VOTES = 'UPDATE comments SET upvotes = ?, downvotes = ? WHERE id = ?';
export const EDIT = 'UPDATE comments SET body = ?, edited_at = ? WHERE id = ?';
/** Soft delete: the node stays in the tree; its text is erased. */
export const DELETE = 'UPDATE comments SET body = NULL, deleted_at = ? WHERE id = ? AND deleted_at IS NULL';
export const REMOVE = 'UPDATE comments SET removed_at = ?, removal_reason = ? WHERE id = ? AND removed_at IS NULL';
export const RESTORE =
  'UPDATE comments SET removed_at = NULL, removal_reason = NULL WHERE id = ? AND removed_at IS NOT NULL';

export const BY_AUTHOR = `SELECT ${COLUMNS} FROM comments WHERE author_id = ? AND ${SHOWN} ORDER BY id DESC LIMIT ?`;
export const BY_AUTHOR_AFTER = `SELECT ${COLUMNS} FROM comments WHERE author_id = ? AND ${SHOWN} AND id < ? ORDER BY id DESC LIMIT ?`;

export const INBOX_INSERT = `INSERT INTO inbox (id, account_id, kind, comment_id, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (account_id, comment_id) DO NOTHING`;
/** A reply's item for its parent's author (none when the parent has no author or is the reply's own author's): its account. */
export const INBOX_REPLY = `INSERT INTO inbox (id, account_id, kind, comment_id, created_at)
SELECT CAST(? AS TEXT), author_id, 'reply', CAST(? AS TEXT), CAST(? AS BIGINT) FROM comments WHERE id = ? AND author_id IS NOT NULL AND author_id <> ?
ON CONFLICT (account_id, comment_id) DO NOTHING
RETURNING account_id`;
export interface InboxRow {
  id: string;
  kind: 'reply' | 'mention';
  comment_id: string;
  created_at: number;
  read_at: number | null;
}
const INBOX_COLUMNS = 'id, kind, comment_id, created_at, read_at';
export const inbox = (unreadOnly: boolean, after: boolean) =>
  `SELECT ${INBOX_COLUMNS} FROM inbox WHERE account_id = ?${unreadOnly ? ' AND read_at IS NULL' : ''}${after ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`;
export const INBOX_UNREAD = 'SELECT COUNT(*) AS n FROM inbox WHERE account_id = ? AND read_at IS NULL';
export const INBOX_READ_ALL = 'UPDATE inbox SET read_at = ? WHERE account_id = ? AND read_at IS NULL';
export const inboxRead = (n: number) =>
  `UPDATE inbox SET read_at = ? WHERE account_id = ? AND read_at IS NULL AND id IN (${rows(n, '?')})`;

export const MAPPED = (n: number) =>
  `SELECT external_id, local_id FROM import_map WHERE source = ? AND external_id IN (${rows(n, '?')})`;
export const MAP = 'INSERT INTO import_map (source, external_id, local_id) VALUES (?, ?, ?)';
export const mapMany = (n: number) =>
  `INSERT INTO import_map (source, external_id, local_id) VALUES ${rows(n, '(?, ?, ?)')}`;
export const insertMany = (n: number) =>
  `INSERT INTO comments (id, post_id, parent_id, author_id, body, depth, upvotes, downvotes, child_count, created_at, version) VALUES ${rows(n, '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')}`;
