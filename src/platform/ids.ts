import { randomBytes } from 'node:crypto';

/** Makes IDs: time-ordered, unique across processes, exact in JSON (strings). */
export interface IdGenerator {
  next(): string;
}

// Crockford base32: sortable as plain strings, no ambiguous letters.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * ULID-shaped IDs (26 chars: 48-bit ms time + 80 random bits). Within one
 * millisecond the random part is incremented, so IDs made by one process are
 * strictly increasing; across processes the 80 random bits keep them unique.
 */
export function createIdGenerator(now: () => number = Date.now): IdGenerator {
  let lastTime = -1;
  const random = new Uint8Array(10);
  return {
    next() {
      const time = Math.max(now(), lastTime);
      if (time === lastTime) {
        increment(random);
      } else {
        random.set(randomBytes(10));
        lastTime = time;
      }
      return encodeTime(time) + encodeRandom(random);
    },
  };
}

function increment(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const v = (bytes[i] ?? 0) + 1;
    bytes[i] = v & 0xff;
    if (v <= 0xff) return;
  }
}

function encodeTime(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits -> 16 base32 chars, 5 bits at a time.
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/** The time part of an ID, in epoch milliseconds. */
export function idTime(id: string): number {
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + ALPHABET.indexOf(id[i] ?? '0');
  return t;
}

/** An id greater than every id made at or before `time` (a snapshot bound for keyset paging). */
export function idUpperBound(time: number): string {
  return encodeTime(time) + 'Z'.repeat(16);
}

/** The smallest id that can be made at `time`: every id made at or after it is >= this. */
export function idLowerBound(time: number): string {
  return encodeTime(Math.max(0, time)) + '0'.repeat(16);
}

/**
 * An id for something made at `time` (imports and generated data keep their
 * original times): the same shape and order as `next()`, random low part.
 */
export function idAt(time: number): string {
  return encodeTime(Math.max(0, Math.floor(time))) + encodeRandom(randomBytes(10));
}
