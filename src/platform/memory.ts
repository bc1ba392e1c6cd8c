/**
 * One memory budget, in bytes, for every in-memory copy the process keeps
 * (comment trees, listing pages and their answers, search results, drop
 * copies, session and account copies): each kept entry is charged its
 * estimated size, and the least recently used entries — of any owner — are
 * evicted while the total is over the limit. A single entry larger than the
 * whole budget is not kept at all.
 */
export interface MemoryBudget {
  readonly limit: number;
  readonly used: number;
  /** Bytes charged by each owner (for the metric). */
  usedBy(): ReadonlyMap<string, number>;
  readonly evictions: number;
  /** Charges a new entry as the most recently used; `evict` drops it from its owner's map. */
  charge(owner: string, bytes: number, evict: () => void): Charge;
}

export interface Charge {
  /** Marks the entry as just used. */
  touch(): void;
  /** The entry's size changed (a tree that grew): it counts as used, too. */
  resize(bytes: number): void;
  /** The owner dropped the entry itself (no `evict` call follows). */
  release(): void;
}

interface Slot extends Charge {
  owner: string;
  bytes: number;
  evict: () => void;
  prev: Slot | null;
  next: Slot | null;
  live: boolean;
}

export function createMemoryBudget(limit: number): MemoryBudget {
  let used = 0;
  let evictions = 0;
  const byOwner = new Map<string, number>();
  // A doubly linked list: head the most recently used, tail the least.
  let head: Slot | null = null;
  let tail: Slot | null = null;

  const unlink = (s: Slot) => {
    if (s.prev) s.prev.next = s.next;
    else head = s.next;
    if (s.next) s.next.prev = s.prev;
    else tail = s.prev;
    s.prev = s.next = null;
  };
  const pushHead = (s: Slot) => {
    s.next = head;
    s.prev = null;
    if (head) head.prev = s;
    head = s;
    tail ??= s;
  };
  const account = (s: Slot, delta: number) => {
    used += delta;
    byOwner.set(s.owner, (byOwner.get(s.owner) ?? 0) + delta);
  };
  const drop = (s: Slot) => {
    if (!s.live) return;
    s.live = false;
    unlink(s);
    account(s, -s.bytes);
  };
  const enforce = () => {
    while (used > limit && tail) {
      const victim = tail;
      drop(victim);
      evictions++;
      victim.evict();
    }
  };

  return {
    limit,
    get used() {
      return used;
    },
    get evictions() {
      return evictions;
    },
    usedBy: () => byOwner,
    charge(owner, bytes, evict) {
      const slot: Slot = {
        owner,
        bytes: Math.max(0, Math.round(bytes)),
        evict,
        prev: null,
        next: null,
        live: true,
        touch() {
          if (!slot.live || head === slot) return;
          unlink(slot);
          pushHead(slot);
        },
        resize(size) {
          if (!slot.live) return;
          const next = Math.max(0, Math.round(size));
          slot.touch();
          account(slot, next - slot.bytes);
          slot.bytes = next;
          enforce();
        },
        release: () => drop(slot),
      };
      pushHead(slot);
      account(slot, slot.bytes);
      enforce();
      return slot;
    },
  };
}

/**
 * A rough size in bytes of a JSON-like value as V8 holds it: strings two
 * bytes a character plus a header, numbers and booleans 8 bytes, objects and
 * arrays a header and a slot per field. Good enough to bound the sum; cheap
 * enough to run once per kept entry.
 */
export function sizeOf(value: unknown, depth = 0): number {
  if (typeof value === 'string') return 16 + 2 * value.length;
  if (typeof value !== 'object' || value === null) return 8;
  if (depth > 8) return 64;
  let bytes = 32;
  if (Array.isArray(value)) {
    for (const item of value) bytes += 8 + sizeOf(item, depth + 1);
    return bytes;
  }
  if (Buffer.isBuffer(value)) return bytes + value.length;
  for (const key in value) bytes += 16 + sizeOf((value as Record<string, unknown>)[key], depth + 1);
  return bytes;
}
