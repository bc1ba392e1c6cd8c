import { rows } from '../../platform/store/index.js';

/** The accounts module's SQL: portable across SQLite and PostgreSQL. */

export interface AccountRow {
  id: string;
  username: string;
  username_key: string;
  email: string | null;
  password_hash: string;
  post_karma: number;
  comment_karma: number;
  created_at: number;
  is_admin: number;
  failed_logins: number;
  login_after: number;
}

export interface SessionRow {
  account_id: string;
  username: string;
  username_key: string;
  is_admin: number;
  created_at: number;
  expires_at: number;
}

const ACCOUNT_COLUMNS =
  'id, username, username_key, email, password_hash, post_karma, comment_karma, created_at, is_admin, failed_logins, login_after';

export const ACCOUNT_ID_BY_KEY = 'SELECT id FROM accounts WHERE username_key = ?';
export const ACCOUNT_BY_KEY = `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE username_key = ?`;
export const ACCOUNT_BY_ID = `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`;
export const usernamesByIds = (n: number) => `SELECT id, username FROM accounts WHERE id IN (${rows(n, '?')})`;

export const INSERT_ACCOUNT = `INSERT INTO accounts (id, username, username_key, email, password_hash, created_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (username_key) DO NOTHING
RETURNING id`;

export const SESSION_BY_HASH = `SELECT s.account_id, s.expires_at, a.username, a.username_key, a.is_admin, a.created_at
FROM sessions s JOIN accounts a ON a.id = s.account_id
WHERE s.token_hash = ?`;
export const SET_ADMIN = 'UPDATE accounts SET is_admin = ? WHERE username_key = ? RETURNING id';
/** A failed sign-in: one more failure in a row, and the time before which the next attempt is refused. */
export const LOGIN_FAILED = 'UPDATE accounts SET failed_logins = failed_logins + 1, login_after = ? WHERE id = ?';
export const LOGIN_SUCCEEDED = 'UPDATE accounts SET failed_logins = 0, login_after = 0 WHERE id = ?';
export const SET_PASSWORD_HASH = 'UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?';
export const INSERT_SESSION =
  'INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)';
export const DELETE_SESSION = 'DELETE FROM sessions WHERE token_hash = ?';
export const DELETE_ACCOUNT_SESSIONS = 'DELETE FROM sessions WHERE account_id = ?';
export const DELETE_EXPIRED_SESSIONS = 'DELETE FROM sessions WHERE account_id = ? AND expires_at <= ?';
export const ADD_KARMA =
  'UPDATE accounts SET post_karma = post_karma + ?, comment_karma = comment_karma + ? WHERE id = ?';
export const idsByKeys = (n: number) => `SELECT id, username_key FROM accounts WHERE username_key IN (${rows(n, '?')})`;
/** Placeholder accounts (imports) have this password hash: no password ever matches it. */
export const NO_PASSWORD = '!';
