import { bySize, rows, type Dialect } from '../store/index.js';

/** Claims due events under a lease. The one statement whose SQL differs by dialect. */
const CLAIM_BASE = `UPDATE outbox SET locked_until = ?, attempts = attempts + 1
WHERE id IN (
  SELECT id FROM outbox
  WHERE delivered_at IS NULL AND failed_at IS NULL AND available_at <= ?
    AND (locked_until IS NULL OR locked_until <= ?)
  ORDER BY available_at, id
  LIMIT ?`;

export const CLAIM: Record<Dialect, string> = {
  // One process writes SQLite: no other dispatcher can hold these rows.
  sqlite: `${CLAIM_BASE}
)
RETURNING id, topic, payload, created_at, attempts`,
  // Several processes may dispatch at once: skip rows another one holds.
  postgres: `${CLAIM_BASE}
  FOR UPDATE SKIP LOCKED
)
RETURNING id, topic, payload, created_at, attempts`,
};

/** Inserts `n` events in one statement. */
export const INSERT = bySize(
  (n) => `INSERT INTO outbox (id, topic, payload, created_at, available_at) VALUES ${rows(n, '(?, ?, ?, ?, ?)')}`,
);
export const HANDLED = `SELECT handler FROM outbox_handled WHERE event_id = ?`;
export const MARK_HANDLED = `INSERT INTO outbox_handled (event_id, handler, handled_at) VALUES (?, ?, ?)
ON CONFLICT (event_id, handler) DO NOTHING`;
/** Marks `n` events delivered (the events of a pass whose handlers all succeeded), in one statement. */
export const DELIVERED = bySize(
  (n) => `UPDATE outbox SET delivered_at = ?, locked_until = NULL, last_error = NULL WHERE id IN (${rows(n, '?')})`,
);
export const RETRY = `UPDATE outbox SET available_at = ?, locked_until = NULL, last_error = ? WHERE id = ?`;
export const GIVE_UP = `UPDATE outbox SET failed_at = ?, locked_until = NULL, last_error = ? WHERE id = ?`;
export const BACKLOG = `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox
WHERE delivered_at IS NULL AND failed_at IS NULL`;
export const FAILED = `SELECT COUNT(*) AS n FROM outbox WHERE failed_at IS NOT NULL`;
export const PRUNE_HANDLED = `DELETE FROM outbox_handled WHERE event_id IN (SELECT id FROM outbox WHERE delivered_at < ?)`;
export const PRUNE = `DELETE FROM outbox WHERE delivered_at < ?`;
