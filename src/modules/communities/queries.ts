import { rows } from '../../platform/store/index.js';

/** The communities module's SQL: portable across SQLite and PostgreSQL. */

export interface CommunityRow {
  id: string;
  name: string;
  name_key: string;
  title: string;
  description: string;
  creator_id: string;
  subscriber_count: number;
  created_at: number;
}

const COLUMNS = 'id, name, name_key, title, description, creator_id, subscriber_count, created_at';

export const INSERT = `INSERT INTO communities (id, name, name_key, title, description, creator_id, subscriber_count, created_at)
VALUES (?, ?, ?, ?, ?, ?, 0, ?)
ON CONFLICT (name_key) DO NOTHING
RETURNING id`;
export const BY_KEY = `SELECT ${COLUMNS} FROM communities WHERE name_key = ?`;
export const BY_ID = `SELECT ${COLUMNS} FROM communities WHERE id = ?`;
export const byIds = (n: number) => `SELECT ${COLUMNS} FROM communities WHERE id IN (${rows(n, '?')})`;

export const LIST_POPULAR = `SELECT ${COLUMNS} FROM communities ORDER BY subscriber_count DESC, id DESC LIMIT ?`;
export const LIST_POPULAR_AFTER = `SELECT ${COLUMNS} FROM communities
WHERE subscriber_count < ? OR (subscriber_count = ? AND id < ?)
ORDER BY subscriber_count DESC, id DESC LIMIT ?`;
export const LIST_NEW = `SELECT ${COLUMNS} FROM communities ORDER BY id DESC LIMIT ?`;
export const LIST_NEW_AFTER = `SELECT ${COLUMNS} FROM communities WHERE id < ? ORDER BY id DESC LIMIT ?`;

export const SUBSCRIBE = `INSERT INTO subscriptions (account_id, community_id, created_at) VALUES (?, ?, ?)
ON CONFLICT (account_id, community_id) DO NOTHING`;
export const UNSUBSCRIBE = 'DELETE FROM subscriptions WHERE account_id = ? AND community_id = ?';
export const ADD_SUBSCRIBERS = 'UPDATE communities SET subscriber_count = subscriber_count + ? WHERE id = ?';
export const IS_SUBSCRIBED = 'SELECT 1 AS yes FROM subscriptions WHERE account_id = ? AND community_id = ?';
export const SUBSCRIBED_IDS = 'SELECT community_id FROM subscriptions WHERE account_id = ?';

export const ADD_MODERATOR = `INSERT INTO community_moderators (community_id, account_id, added_by, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (community_id, account_id) DO NOTHING`;
/** Two moderators' seniority: the founder first (founder 1), then by when they were added. */
export const SENIORITY = `SELECT m.account_id, m.created_at, CASE WHEN c.creator_id = m.account_id THEN 1 ELSE 0 END AS founder
FROM community_moderators m JOIN communities c ON c.id = m.community_id WHERE m.community_id = ? AND m.account_id IN (?, ?)`;
export const REMOVE_MODERATOR = 'DELETE FROM community_moderators WHERE community_id = ? AND account_id = ?';
const list = (n: number) => rows(n, '?');
export const moderatorsOf = (n: number) =>
  `SELECT community_id, account_id FROM community_moderators WHERE community_id IN (${list(n)}) ORDER BY created_at, account_id`;
export const subscribedAmong = (n: number) =>
  `SELECT community_id FROM subscriptions WHERE account_id = ? AND community_id IN (${list(n)})`;
export const IS_MODERATOR = 'SELECT 1 AS yes FROM community_moderators WHERE community_id = ? AND account_id = ?';
export const MODERATOR_IDS = 'SELECT account_id FROM community_moderators WHERE community_id = ?';
