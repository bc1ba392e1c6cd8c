import { rows, type Dialect } from '../../platform/store/index.js';

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
 * A comment row's change number is its post's latest (`posts.commentsChanged`, run just
 * before in the same transaction, holds the post row): read here rather than passed in,
 * so that the statements of a change go out together in one round trip.
 */
const POST_VERSION = '(SELECT comment_version FROM posts WHERE id = ?)';
/**
 * A new comment, with the create's checks as guards, so that a create is one batch of
 * statements (one round trip on PostgreSQL) with nothing to ask first: its version is
 * NULL — refused, NOT NULL — unless the post takes comments (neither locked nor hidden,
 * read under the post lock the create took just before), the author is not banned
 * (`notBanned`: moderation's guard on `posts.community_id`) and, for a reply, the
 * parent is a shown comment of the same post, above the deepest level (MAX_DEPTH); a reply's depth is its parent's + 1.
 * A refused create is explained by reading the same facts (`service.ts`). (The parent's
 * guard is a scalar subquery: as `EXISTS (…)` SQLite ran this insert 4–5 times slower.)
 * Parameters: id, post, parent, author, body, [parent], now, post, author, now, [parent].
 */
export const insert = (notBanned: string, reply: boolean) =>
  `INSERT INTO comments (id, post_id, parent_id, author_id, body, depth, upvotes, downvotes, child_count, created_at, version)
VALUES (?, ?, ?, ?, ?, ${reply ? '(SELECT depth + 1 FROM comments WHERE id = ?)' : '0'}, 1, 0, 0, ?, (SELECT comment_version FROM posts
  WHERE id = ? AND locked = 0 AND visible = 1 AND ${notBanned}${reply ? ` AND posts.id = (SELECT post_id FROM comments WHERE id = ? AND ${SHOWN} AND depth < ${MAX_DEPTH - 1})` : ''}))
RETURNING depth, version`;
export const SET_VERSION = `UPDATE comments SET version = ${POST_VERSION} WHERE id = ?`;
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
/** A reply's item for its parent's author (none when the parent has no author or is the reply's own author's). */
export const INBOX_REPLY = `INSERT INTO inbox (id, account_id, kind, comment_id, created_at)
SELECT CAST(? AS TEXT), author_id, 'reply', CAST(? AS TEXT), CAST(? AS BIGINT) FROM comments WHERE id = ? AND author_id IS NOT NULL AND author_id <> ?
ON CONFLICT (account_id, comment_id) DO NOTHING`;
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
