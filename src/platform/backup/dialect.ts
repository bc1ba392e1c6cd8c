import type { Dialect } from '../store/index.js';

/** A store's tables' row counts and schema version, at one moment. */
export interface Snapshot {
  tables: Record<string, number>;
  schemaVersion: number;
}

/** What differs between the stores in taking, restoring and checking a backup. */
export interface DialectBackup {
  dialect: Dialect;
  /** The backup file's extension. */
  extension: string;
  /** Copies the store at `url` into file `out` at one snapshot, and counts its rows in that same snapshot. */
  take(url: string, out: string): Promise<Snapshot>;
  /** True when the store at `url` has no tables (or, SQLite, no file yet). */
  isEmpty(url: string): Promise<boolean>;
  /** Restores backup file `file` into the empty store at `url`. */
  restore(file: string, url: string): Promise<void>;
  /** The store's rows and schema version, and what its integrity checks found wrong. */
  inspect(url: string): Promise<Snapshot & { problems: string[] }>;
  /** A new empty store to restore into and check (`near`: a store whose server may host it). */
  scratch(near: string): Promise<{ url: string; drop(): Promise<void> }>;
}
