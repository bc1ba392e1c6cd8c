import type { Dialect } from '../../platform/store/index.js';

/** The drops module's SQL: portable but for the row lock of `LOCK_ORDER`. */

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

const DROP_COLUMNS = 'id, community_id, name, description, stock, sold, price_cents, currency, starts_at, ends_at, per_customer_limit, created_by, created_at';
const ORDER_COLUMNS = 'id, drop_id, account_id, quantity, amount_cents, currency, status, created_at, expires_at, updated_at';

export const INSERT_DROP = `INSERT INTO drops (${DROP_COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)`;
export const DROP_BY_ID = `SELECT ${DROP_COLUMNS} FROM drops WHERE id = ?`;
/**
 * The conditional reservation: never past the stock, whatever runs beside
 * it, and only while the drop is open (starts_at <= now < ends_at). It
 * locks the drop's row until the transaction ends, so every order of one
 * drop is decided in turn (the per-customer limit check after it too).
 * Returns the drop as it now is, or nothing (then ask why: WHY_NOT).
 */
export const RESERVE = `UPDATE drops SET sold = sold + ?
WHERE id = ? AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?) AND sold + ? <= stock
RETURNING ${DROP_COLUMNS}`;
export const RELEASE = 'UPDATE drops SET sold = sold - ? WHERE id = ? RETURNING sold';

export const LIST_LIVE = `SELECT ${DROP_COLUMNS} FROM drops
WHERE starts_at <= ? AND (ends_at IS NULL OR ends_at > ?) AND sold < stock AND (starts_at, id) < (?, ?)
ORDER BY starts_at DESC, id DESC LIMIT ?`;
export const LIST_SCHEDULED = `SELECT ${DROP_COLUMNS} FROM drops
WHERE starts_at > ? AND (starts_at, id) > (?, ?)
ORDER BY starts_at, id LIMIT ?`;

export const HELD_BY_BUYER = `SELECT COALESCE(SUM(quantity), 0) AS held FROM orders
WHERE drop_id = ? AND account_id = ? AND status IN ('pending', 'paid')`;
export const INSERT_ORDER = `INSERT INTO orders (${ORDER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`;
export const ORDER_BY_ID = `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?`;
export const ORDERS_OF = `SELECT ${ORDER_COLUMNS} FROM orders WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?`;
/** Moves an order from one status to the next only if it is still in the first (a race has one winner). */
export const SET_STATUS = 'UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?';
export const DUE_PENDING = `SELECT ${ORDER_COLUMNS} FROM orders WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`;

export const CLAIM_KEY = `INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, status_code, response, created_at)
VALUES (?, ?, ?, 0, '', ?) ON CONFLICT (account_id, idempotency_key) DO NOTHING`;
export const KEY = 'SELECT request_hash, status_code, response FROM idempotency_keys WHERE account_id = ? AND idempotency_key = ?';
export const ANSWER_KEY = 'UPDATE idempotency_keys SET status_code = ?, response = ? WHERE account_id = ? AND idempotency_key = ?';
export const DELETE_OLD_KEYS = 'DELETE FROM idempotency_keys WHERE created_at < ?';

/** Reads an order and holds its row for a payment decision (`FOR UPDATE` on PostgreSQL; SQLite has one writer). */
export const LOCK_ORDER: Record<Dialect, string> = {
  sqlite: ORDER_BY_ID,
  postgres: `${ORDER_BY_ID} FOR UPDATE`,
};
export const RECORD_PAYMENT_EVENT = `INSERT INTO payment_events (id, order_id, type, amount_cents, outcome, received_at)
VALUES (?, ?, ?, ?, 'received', ?) ON CONFLICT (id) DO NOTHING`;
export const SET_PAYMENT_OUTCOME = 'UPDATE payment_events SET outcome = ? WHERE id = ?';
