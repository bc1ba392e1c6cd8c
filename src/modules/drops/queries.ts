import { bySize, rows, type Dialect } from '../../platform/store/index.js';

/** The drops module's SQL: portable but for the row locks of `LOCK_DROP` and `LOCK_ORDER`. */

export interface DropRow {
  id: string;
  community_id: string;
  name: string;
  description: string;
  stock: number;
  sold: number;
  price_cents: number;
  currency: string;
  starts_at: number;
  ends_at: number | null;
  per_customer_limit: number;
  created_by: string;
  created_at: number;
}

export interface OrderRow {
  id: string;
  drop_id: string;
  account_id: string;
  quantity: number;
  amount_cents: number;
  currency: string;
  status: string;
  created_at: number;
  expires_at: number;
  updated_at: number;
}

const DROP_COLUMNS =
  'id, community_id, name, description, stock, sold, price_cents, currency, starts_at, ends_at, per_customer_limit, created_by, created_at';
const ORDER_COLUMNS =
  'id, drop_id, account_id, quantity, amount_cents, currency, status, created_at, expires_at, updated_at';

export const INSERT_DROP = `INSERT INTO drops (${DROP_COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)`;
export const DROP_BY_ID = `SELECT ${DROP_COLUMNS} FROM drops WHERE id = ?`;
/**
 * Reads a drop and holds its row until the transaction ends, so that every
 * batch of orders of one drop is decided in turn (limits, stock): `FOR
 * UPDATE` on PostgreSQL; on SQLite the one writer already serializes writes.
 */
export const LOCK_DROP: Record<Dialect, string> = {
  sqlite: DROP_BY_ID,
  postgres: `${DROP_BY_ID} FOR UPDATE`,
};
/** The conditional reservation: never past the stock, whatever runs beside it. */
export const RESERVE = 'UPDATE drops SET sold = sold + ? WHERE id = ? AND sold + ? <= stock RETURNING sold';
export const RELEASE = 'UPDATE drops SET sold = sold - ? WHERE id = ? RETURNING sold';

export const LIST_LIVE = `SELECT ${DROP_COLUMNS} FROM drops
WHERE starts_at <= ? AND (ends_at IS NULL OR ends_at > ?) AND sold < stock AND (starts_at, id) < (?, ?)
ORDER BY starts_at DESC, id DESC LIMIT ?`;
export const LIST_SCHEDULED = `SELECT ${DROP_COLUMNS} FROM drops
WHERE starts_at > ? AND (starts_at, id) > (?, ?)
ORDER BY starts_at, id LIMIT ?`;

/** What each of `n` buyers holds of a drop (pending and paid units); buyers holding nothing are left out. */
/** Unpaid orders of each buyer over every drop (the cap on holds per account). */
export const PENDING_OF_BUYERS = bySize(
  (n) =>
    `SELECT account_id, COUNT(*) AS n FROM orders WHERE account_id IN (${rows(n, '?')}) AND status = 'pending' GROUP BY account_id`,
);
export const HELD_BY_BUYERS = bySize(
  (n) => `SELECT account_id, SUM(quantity) AS held FROM orders
WHERE drop_id = ? AND account_id IN (${rows(n, '?')}) AND status IN ('pending', 'paid')
GROUP BY account_id`,
);
export const INSERT_ORDERS = bySize(
  (n) => `INSERT INTO orders (${ORDER_COLUMNS}) VALUES ${rows(n, "(?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)")}`,
);
export const ORDER_BY_ID = `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?`;
export const ORDERS_OF = `SELECT ${ORDER_COLUMNS} FROM orders WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?`;
/** Moves an order from one status to the next only if it is still in the first (a race has one winner). */
export const SET_STATUS = 'UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?';
export const DUE_PENDING = `SELECT ${ORDER_COLUMNS} FROM orders WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`;

/**
 * Claims `n` keys; returns those claimed here. A key another transaction
 * holds uncommitted makes this wait for it (PostgreSQL), then skip it.
 */
export const CLAIM_KEYS = bySize(
  (n) => `INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, status_code, response, created_at)
VALUES ${rows(n, "(?, ?, ?, 0, '', ?)")} ON CONFLICT (account_id, idempotency_key) DO NOTHING
RETURNING account_id, idempotency_key`,
);
export const KEY =
  'SELECT request_hash, status_code, response FROM idempotency_keys WHERE account_id = ? AND idempotency_key = ?';
/** Stores the answers of `n` keys claimed in this transaction. */
export const ANSWER_KEYS = bySize(
  (n) => `INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, status_code, response, created_at)
VALUES ${rows(n, '(?, ?, ?, ?, ?, ?)')}
ON CONFLICT (account_id, idempotency_key) DO UPDATE SET status_code = excluded.status_code, response = excluded.response`,
);
export const DELETE_OLD_KEYS = 'DELETE FROM idempotency_keys WHERE created_at < ?';

/** Reads an order and holds its row for a payment decision (`FOR UPDATE` on PostgreSQL; SQLite has one writer). */
export const LOCK_ORDER: Record<Dialect, string> = {
  sqlite: ORDER_BY_ID,
  postgres: `${ORDER_BY_ID} FOR UPDATE`,
};
export const RECORD_PAYMENT_EVENT = `INSERT INTO payment_events (id, order_id, type, amount_cents, outcome, received_at)
VALUES (?, ?, ?, ?, 'received', ?) ON CONFLICT (id) DO NOTHING`;
export const SET_PAYMENT_OUTCOME = 'UPDATE payment_events SET outcome = ? WHERE id = ?';
