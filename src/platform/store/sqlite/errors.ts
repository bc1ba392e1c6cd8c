import { StoreError, type StoreErrorKind } from '../types.js';

const KINDS: Record<string, StoreErrorKind> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
  SQLITE_BUSY: 'busy',
  SQLITE_LOCKED: 'busy',
  SQLITE_READONLY: 'read_only',
  SQLITE_CANTOPEN: 'unavailable',
  SQLITE_FULL: 'unavailable',
  SQLITE_IOERR: 'unavailable',
};

/** better-sqlite3's SqliteError -> StoreError; anything else passes through. */
export function translateSqliteError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const kind = KINDS[code] ?? KINDS[code.split('_').slice(0, 2).join('_')] ?? 'other';
  return new StoreError(kind, (error as Error).message, { cause: error });
}
