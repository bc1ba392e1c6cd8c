/**
 * Expected outcomes a client can act on. Each code has one HTTP status; the
 * table is exhaustive, and docs/errors.md lists every code (a test checks).
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  malformed_request: 400,
  invalid_cursor: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  username_taken: 409,
  community_exists: 409,
  already_reported: 409,
  banned: 403,
  post_locked: 403,
  missing_idempotency_key: 400,
  invalid_signature: 400,
  sold_out: 409,
  not_started: 409,
  ended: 409,
  limit_exceeded: 409,
  order_not_pending: 409,
  too_many_pending: 409,
  write_conflict: 409,
  migration_in_progress: 409,
  not_ready: 409,
  invalid_target: 400,
  idempotency_key_reused: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  read_only: 503,
  store_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A domain error: an expected outcome with a stable code, not a bug. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }
}
