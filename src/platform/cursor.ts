import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.js';

/**
 * Opaque, tamper-proof keyset cursors: `<payload>.<mac>`, where the payload
 * is base64url JSON of `[list, ...key]` and the mac an HMAC-SHA256 of it
 * under the site's secret (kept in the store, so every process and every
 * restart accepts the cursors the others issued). A cursor names the list
 * it was issued for: one from another route is refused like a forged one.
 * Decoding also checks each key part's exact type, so a cursor made with an
 * older secret or by a client is a clear `400 invalid_cursor`, never a
 * value a query was not written for.
 */
export type CursorPart = 'id' | 'string' | 'int' | 'number';
type PartType<P extends CursorPart> = P extends 'int' | 'number' ? number : string;
export type CursorKey<S extends readonly CursorPart[]> = { [I in keyof S]: PartType<S[I]> };

export interface Cursors {
  encode(list: string, key: readonly (string | number)[]): string;
  /** The key of a cursor issued for `list` with this shape, or `400 invalid_cursor`. */
  decode<const S extends readonly CursorPart[]>(list: string, cursor: string, shape: S): CursorKey<S>;
}

const MAC_BYTES = 12;
const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const MAX_STRING = 200;
/** Longest cursor any list issues: routes refuse longer ones in their schema. */
export const MAX_CURSOR_LENGTH = 600;

function fits(part: CursorPart, value: unknown): boolean {
  switch (part) {
    case 'id':
      return typeof value === 'string' && ID.test(value);
    case 'string':
      return typeof value === 'string' && value.length <= MAX_STRING;
    case 'int':
      return Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
  }
}

export function createCursors(secret: Buffer): Cursors {
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest().subarray(0, MAC_BYTES);
  const invalid = () => new AppError('invalid_cursor', 'the cursor is not one this list issued', { field: 'cursor' });
  return {
    encode(list, key) {
      const payload = Buffer.from(JSON.stringify([list, ...key])).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    decode(list, cursor, shape) {
      const dot = cursor.indexOf('.');
      if (dot <= 0 || cursor.length > MAX_CURSOR_LENGTH) throw invalid();
      const payload = cursor.slice(0, dot);
      const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
      if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(payload))) throw invalid();
      let parts: unknown;
      try {
        parts = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw invalid();
      }
      if (!Array.isArray(parts) || parts[0] !== list || parts.length !== shape.length + 1) throw invalid();
      const key = parts.slice(1);
      if (!shape.every((part, i) => fits(part, key[i]))) throw invalid();
      return key as CursorKey<typeof shape>;
    },
  };
}
