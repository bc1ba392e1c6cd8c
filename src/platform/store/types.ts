/**
 * The storage port. Business code writes portable SQL with `?` placeholders
 * and never asks which database it is on; the adapters (sqlite/, postgres/)
 * make the rest the same.
 */
export type Param = string | number | bigint | null | Uint8Array;
export type Row = Record<string, unknown>;

export interface Queryable {
  /** All rows of a query. */
  all<T = Row>(sql: string, params?: readonly Param[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>;
}

export interface Tx extends Queryable {
  /** Runs a multi-statement script (schema migrations). */
  exec(script: string): Promise<void>;
  /** Called once the transaction has committed (never if it rolls back). */
  afterCommit(fn: () => void): void;
  /**
   * Ends the transaction's statements: on PostgreSQL `COMMIT` goes out now,
   * behind the statements already issued, without waiting for their answers
   * — one round trip less, and a row lock taken by the last of them is held
   * only while the server runs the rest. If one of them fails the
   * transaction rolls back and the write fails with that error. After it,
   * issue no statement and throw nothing but a statement's error. On SQLite
   * nothing happens (the writer commits its batch afterwards).
   */
  commitEarly(): void;
  /**
   * PostgreSQL's `COPY … FROM STDIN` (`sql`) with `data`, in the format
   * `sql` names, as its input: answered with the rows copied. It runs in a
   * savepoint: when it fails (a row the table refuses), the transaction goes
   * on as it was before it. `data` may be moved to another thread (empty
   * here afterwards). Only a PostgreSQL store's `bulkWrite` has it.
   */
  copyIn?(sql: string, data: Uint8Array): Promise<number>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface StoreStats {
  /** Write transactions waiting for the writer. */
  writerQueueDepth: number;
  /** Write transactions currently running. */
  writesInFlight: number;
}

/**
 * Short messages to every process on one store, sent when a write commits:
 * how an in-memory copy learns that another process changed its rows.
 */
export interface Notices {
  /**
   * Sends `message` on `topic` if `tx` commits: to this process's
   * subscribers at the commit, to other processes' a moment later.
   */
  publish(tx: Tx, topic: string, message: string): Promise<void>;
  /**
   * `onMessage` for every message on `topic`; `onGap` when messages may have
   * been missed (the connection that hears them was lost): drop the copy.
   */
  subscribe(topic: string, onMessage: (message: string) => void, onGap: () => void): void;
  /**
   * Sends `message` on `topic` to the other processes now, outside any
   * transaction; this process's subscribers are not told (it knows). At
   * most once: lost if the process stops first, or while it is not
   * `hearing` — a copy kept on its strength needs a bound of its own.
   */
  tell(topic: string, message: string): void;
  /** True while every message sent from now on is heard (always with one process). */
  readonly hearing: boolean;
  /**
   * The primary's WAL position from which every message is heard (0n: from
   * the start, or while not `hearing`). A copy dropped by messages is read at
   * least at it (`readAtLeast`): a change told while they were not heard is
   * before it, so the first read after a gap already has it.
   */
  heardSince(): bigint;
}

/**
 * What the store can do, where the two dialects differ — one flag per
 * meaning, read at each use (the store handle may swap the store underneath).
 */
export interface StoreCapabilities {
  /** This process is the only writer (embedded SQLite): an in-memory copy it keeps up to date is exact. */
  readonly exactCopies: boolean;
  /** `SELECT … FOR UPDATE` locks rows (PostgreSQL); without it, the single writer serializes every write. */
  readonly rowLocks: boolean;
  /** `FOR UPDATE SKIP LOCKED`: several processes can claim queued work at once. */
  readonly skipLocked: boolean;
  /** Transaction-scoped advisory locks (`pg_advisory_xact_lock`): one migrator, one schema migration at a time. */
  readonly advisoryLocks: boolean;
}

export const SQLITE_CAPABILITIES: StoreCapabilities = {
  exactCopies: true,
  rowLocks: false,
  skipLocked: false,
  advisoryLocks: false,
};
export const POSTGRES_CAPABILITIES: StoreCapabilities = {
  exactCopies: false,
  rowLocks: true,
  skipLocked: true,
  advisoryLocks: true,
};

/** Reads through `store.replica`: those the primary answered, and each replica's standing. */
export interface ReadRouting {
  primaryReads: number;
  replicas: { name: string; healthy: boolean; lagSeconds: number; reads: number }[];
}

export interface Store {
  readonly dialect: Dialect;
  readonly capabilities: StoreCapabilities;
  /** A redacted description for logs: `sqlite:./data/agora.db`, `postgres://host/db`. */
  readonly description: string;
  /** Reads outside a transaction; each statement sees the latest commit. */
  readonly q: Queryable;
  /**
   * Reads that may be a little behind the latest commit (profiles' listings, search's ranked lists,
   * comment trees' catch-ups):
   * on PostgreSQL with read replicas, a replica that has replayed the
   * reader's own writes (`read-context.ts`), else the primary; elsewhere the
   * same as `q`. Never for a read that decides a write.
   */
  readonly replica: Queryable;
  /**
   * The primary's WAL position after this process's latest commit: what a
   * reader who was answered after it must see. Null when no read goes to a
   * replica (nothing to wait for).
   */
  writePosition(): bigint | null;
  /** Where `replica` reads went: null without replicas. */
  readRouting(): ReadRouting | null;
  /**
   * Reads outside a transaction that are long and not the site's own (a live
   * migration's copy): run by a worker thread of the store's, on a
   * connection of its own and at a lower CPU priority, so that the event
   * loop neither waits for them nor handles their bytes; a blob in an answer
   * arrives as bytes moved from that thread, not copied.
   */
  readonly bulk: Queryable;
  readonly notices: Notices;
  /** Reads that see one consistent snapshot. */
  read<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** One write transaction; commits when fn resolves, rolls back when it throws. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * A write transaction that is long and not the site's own (a live
   * migration's copy chunks, megabytes each, and its index builds): its
   * statements are sent to the store's worker thread and run there on a
   * connection of its own, so that neither their bytes nor their work pass
   * through the event loop. On SQLite the store's writer is held back
   * meanwhile (its writes wait; reads go on), one bulk transaction at a
   * time: `fn` must not write through this store's `write`. A buffer among
   * its statements' parameters may be moved to that thread (empty here
   * afterwards): pass none that is needed again. `commitEarly` does nothing.
   */
  bulkWrite<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * `listener` runs when the store underneath is replaced (the store handle's
   * swap, at a migration's cutover or rollback): every in-memory copy of the
   * old store's rows must then be dropped. A plain store is never replaced.
   */
  onReplaced(listener: () => void): void;
  ping(): Promise<void>;
  stats(): StoreStats;
  close(): Promise<void>;
}

/** Driver errors, translated once in the adapters. */
export type StoreErrorKind =
  'unique' | 'foreign_key' | 'check' | 'not_null' | 'busy' | 'serialization' | 'unavailable' | 'read_only' | 'other';

export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  constructor(kind: StoreErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.kind = kind;
  }
}
