import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the reads of the work running now may see. Set per HTTP request
 * (`platform/http/positions.ts`); a read that may be a little behind
 * (`store.replica`) goes to a replica only once it has replayed `min()`, the
 * reader's last write position. Work outside any context (workers, commands)
 * reads from the primary.
 */
export interface ReadContext {
  /** The primary's WAL position this reader must see (0n: none). */
  min(): bigint;
}

export const readContext = new AsyncLocalStorage<ReadContext>();

/** The position the reads of the work running now must see (0n: none, or outside any reader's work). */
export const readerPosition = (): bigint => readContext.getStore()?.min() ?? 0n;

/**
 * Runs `fn` with reads that must also see `position` (a change this process
 * made to what they read), besides the reader's own.
 */
export function readAtLeast<T>(position: bigint, fn: () => T): T {
  if (position === 0n) return fn();
  const outer = readContext.getStore();
  return readContext.run(
    {
      min: () => {
        const reader = outer?.min() ?? 0n;
        return reader > position ? reader : position;
      },
    },
    fn,
  );
}

/** `0/16B3748` → its 64-bit number; null for anything else. */
export function parsePosition(text: string): bigint | null {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  return m ? (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`) : null;
}

/** Its text as PostgreSQL writes it (`0/16B3748`). */
export function formatPosition(position: bigint): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}
