import type { Notices, Queryable, Store, StoreStats } from './types.js';
import { StoreError } from './types.js';

/**
 * The one store handle the running process uses. It can pause writes (new
 * write transactions wait, running ones finish), refuse writes (read-only
 * mode), and swap the store underneath without a restart — what the live
 * migration's cutover needs.
 */
export interface StoreHandle extends Store {
  readonly current: Store;
  /** Resolves once every running write has finished; new writes wait. */
  pauseWrites(): Promise<void>;
  resumeWrites(): void;
  /** While on, writes fail with StoreError('read_only'). */
  setReadOnly(on: boolean): void;
  readonly readOnly: boolean;
  /**
   * Replaces the store (writes must be paused); returns the old one. Notice
   * subscriptions move to the new store and are told of a gap, and every
   * `onReplaced` listener runs, so no copy of the old store's rows survives.
   */
  swap(next: Store): Store;
}

export function createStoreHandle(initial: Store, observeWrite?: (seconds: number) => void): StoreHandle {
  let current = initial;
  let readOnly = false;
  let running = 0;
  let paused: { promise: Promise<void>; release: () => void } | null = null;
  // Everyone waiting for the running writes to finish (several may pause at once).
  const drained: (() => void)[] = [];
  const replaced: (() => void)[] = [];

  // Subscriptions follow the store: the next one gets them, and the copies
  // kept under the old one are dropped (a gap).
  const subscriptions: Parameters<Notices['subscribe']>[] = [];
  const notices: Notices = {
    publish: (tx, topic, message) => current.notices.publish(tx, topic, message),
    subscribe(...args) {
      subscriptions.push(args);
      current.notices.subscribe(...args);
    },
    tell: (topic, message) => current.notices.tell(topic, message),
    get hearing() {
      return current.notices.hearing;
    },
    heardSince: () => current.notices.heardSince(),
  };

  const follow = (of: () => Queryable): Queryable => ({
    all: (sql, params) => of().all(sql, params),
    get: (sql, params) => of().get(sql, params),
    run: (sql, params) => of().run(sql, params),
  });
  const q = follow(() => current.q);
  const replica = follow(() => current.replica);

  /** A write on the current store, once writes are not paused: counted, so that a pause waits for it. */
  async function writing<T>(run: (store: Store) => Promise<T>): Promise<T> {
    while (paused) await paused.promise;
    if (readOnly) throw new StoreError('read_only', 'the site is in read-only mode');
    running++;
    const started = performance.now();
    try {
      return await run(current);
    } finally {
      observeWrite?.((performance.now() - started) / 1000);
      running--;
      if (running === 0) for (const done of drained.splice(0)) done();
    }
  }

  return {
    get dialect() {
      return current.dialect;
    },
    get description() {
      return current.description;
    },
    get capabilities() {
      return current.capabilities;
    },
    onReplaced(listener) {
      replaced.push(listener);
    },
    get current() {
      return current;
    },
    get readOnly() {
      return readOnly;
    },
    q,
    replica,
    writePosition: () => current.writePosition(),
    readRouting: () => current.readRouting(),
    get bulk() {
      return current.bulk;
    },
    notices,
    read: (fn) => current.read(fn),
    write: (fn) => writing((store) => store.write(fn)),
    bulkWrite: (fn) => writing((store) => store.bulkWrite(fn)),
    async pauseWrites() {
      if (!paused) {
        let release!: () => void;
        const promise = new Promise<void>((r) => (release = r));
        paused = { promise, release };
      }
      if (running > 0) await new Promise<void>((r) => drained.push(r));
    },
    resumeWrites() {
      const p = paused;
      paused = null;
      p?.release();
    },
    setReadOnly(on) {
      readOnly = on;
    },
    swap(next) {
      if (!paused) throw new Error('pause writes before swapping the store');
      const old = current;
      current = next;
      for (const args of subscriptions) next.notices.subscribe(...args);
      for (const [, , onGap] of subscriptions) onGap();
      for (const listener of replaced) listener();
      return old;
    },
    ping: () => current.ping(),
    stats: (): StoreStats => current.stats(),
    close: () => current.close(),
  };
}
