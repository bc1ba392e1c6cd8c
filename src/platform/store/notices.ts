import type { Notices, Tx } from './types.js';

/** How long a copy dropped by notices is kept while they are heard: the bound when one is lost. */
export const HEARD_MAX_AGE_MS = 60_000;

/**
 * The life of a copy whose changes arrive as notices, asked at each load:
 * while they are heard, `heardMaxAgeMs` (if longer than `ttlMs`); while they
 * are not, `ttlMs`. A `ttlMs` of 0 keeps nothing either way.
 */
export function keptWhileHeard(notices: Notices, ttlMs: number, heardMaxAgeMs = HEARD_MAX_AGE_MS): () => number {
  return () => (ttlMs > 0 && notices.hearing ? Math.max(ttlMs, heardMaxAgeMs) : ttlMs);
}

/**
 * Tells the other processes on `topic` the items given in one event-loop
 * turn (each once), when the turn's commits are done: messages of at most
 * `perNotice` comma-separated items (a notice's payload is at most 8,000
 * bytes). With `position` (the store's `writePosition`), each message starts
 * with `@<position>` at that moment: the hearer's reads of what changed must
 * see it (`heardItems`).
 */
export function tellEachTurn(
  notices: Notices,
  topic: string,
  perNotice: number,
  position?: () => bigint | null,
): (item: string) => void {
  const told = new Set<string>();
  return (item) => {
    if (told.size === 0)
      setImmediate(() => {
        const items = [...told];
        told.clear();
        const at = position?.();
        const head = at ? `@${at},` : '';
        for (let i = 0; i < items.length; i += perNotice)
          notices.tell(topic, head + items.slice(i, i + perNotice).join(','));
      });
    told.add(item);
  };
}

/**
 * The items of a message `tellEachTurn` sent (its `@<position>` first), each
 * with the position the reads of it must see (0n: none given). A message from an older process
 * (items only, or `item@position` each) reads the same way.
 */
export function heardItems(message: string): { item: string; position: bigint }[] {
  let position = 0n;
  const out: { item: string; position: bigint }[] = [];
  for (const part of message.split(',')) {
    const at = part.indexOf('@');
    const digits = at < 0 ? '' : part.slice(at + 1);
    const p = /^\d{1,20}$/.test(digits) ? BigInt(digits) : 0n;
    if (at === 0) position = p;
    else if (at > 0) out.push({ item: part.slice(0, at), position: p });
    else if (part !== '') out.push({ item: part, position });
  }
  return out;
}

/**
 * Per key (a community, a kind of document), the position of the last change to it that this
 * process made or heard of: a read of a copy dropped by notices is made at least at the
 * floor of what it reads (`readAtLeast`), and at where notices are heard from (`heardSince`),
 * so a copy kept after a change has it.
 */
export function createFloors(notices: Pick<Notices, 'heardSince'>) {
  const floors = new Map<string, bigint>();
  return {
    raise(key: string, position: bigint): void {
      if (position > (floors.get(key) ?? 0n)) floors.set(key, position);
    },
    of(keys: Iterable<string>): bigint {
      let floor = notices.heardSince();
      for (const key of keys) {
        const f = floors.get(key) ?? 0n;
        if (f > floor) floor = f;
      }
      return floor;
    },
    /** Forgets every floor (the store was replaced: its positions are another store's). */
    clear(): void {
      floors.clear();
    },
  };
}

type Subscriber = { onMessage: (message: string) => void; onGap: () => void };

/** This process's subscribers, and the delivery every adapter shares. */
export interface NoticeBoard {
  subscribe: Notices['subscribe'];
  /** Hands `message` to `topic`'s subscribers in this process. */
  deliver(topic: string, message: string): void;
  /** Tells every subscriber that messages may have been missed. */
  gap(): void;
  /** Delivers in this process once `tx` commits. */
  afterCommit(tx: Tx, topic: string, message: string): void;
}

export function createNoticeBoard(): NoticeBoard {
  const topics = new Map<string, Subscriber[]>();
  const deliver = (topic: string, message: string) => {
    for (const s of topics.get(topic) ?? []) s.onMessage(message);
  };
  return {
    subscribe(topic, onMessage, onGap) {
      topics.set(topic, [...(topics.get(topic) ?? []), { onMessage, onGap }]);
    },
    deliver,
    gap() {
      for (const list of topics.values()) for (const s of list) s.onGap();
    },
    afterCommit(tx, topic, message) {
      tx.afterCommit(() => deliver(topic, message));
    },
  };
}

/** One process writes (embedded SQLite): a message reaches every subscriber at the commit. */
export function singleProcessNotices(): Notices {
  const board = createNoticeBoard();
  return {
    async publish(tx, topic, message) {
      board.afterCommit(tx, topic, message);
    },
    subscribe: board.subscribe,
    tell() {},
    hearing: true,
    heardSince: () => 0n,
  };
}
