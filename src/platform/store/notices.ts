import type { Notices, Tx } from './types.js';

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
  };
}
