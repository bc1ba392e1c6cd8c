import { StoreError, type StoreErrorKind } from '../types.js';

const KINDS: Record<string, StoreErrorKind> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23514': 'check',
  '23502': 'not_null',
  '40001': 'serialization',
  '40P01': 'serialization',
  '55P03': 'busy',
  '57014': 'busy', // statement timeout
  '25006': 'read_only',
  '57P01': 'unavailable',
  '57P02': 'unavailable',
  '57P03': 'unavailable',
  '53300': 'unavailable',
};

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);

/** node-postgres errors -> StoreError; anything else passes through. */
export function translatePgError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const message = (error as Error)?.message ?? String(error);
  if (typeof code === 'string') {
    if (NETWORK.has(code)) return new StoreError('unavailable', message, { cause: error });
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const kind = KINDS[code] ?? (code.startsWith('08') ? 'unavailable' : 'other');
      return new StoreError(kind, message, { cause: error });
    }
  }
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  ) {
    return new StoreError('unavailable', message, { cause: error });
  }
  return error;
}
