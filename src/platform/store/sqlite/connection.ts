import Database from 'better-sqlite3';
import type { Param, Queryable, Row, Tx } from '../types.js';
import { translateSqliteError } from './errors.js';

/** How a SQLite connection is opened: the store's options that its connections share. */
export interface ConnectionOptions {
  path: string;
  sync: 'normal' | 'full';
  foreignKeys?: boolean;
}

export interface Connection {
  db: Database.Database;
  /** Runs a statement without parameters, prepared once (transaction control). */
  exec(sql: string): void;
  queryable: Queryable;
  tx(hooks: (() => void)[]): Tx;
}

export function openConnection(options: ConnectionOptions, readOnly: boolean): Connection {
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`foreign_keys = ${options.foreignKeys === false ? 'OFF' : 'ON'}`);
  db.pragma('busy_timeout = 5000');
  if (!readOnly) {
    // The writer keeps a larger page cache (64 MiB): votes touch several index pages each.
    db.pragma('cache_size = -65536');
    // The WAL file is never cut back: it is reused from its start after each
    // checkpoint and keeps the size of the largest burst of writes. Cutting
    // it back happens inside the next commit (an ftruncate of the excess):
    // measured here at 300–400 ms with the event loop blocked, after a burst
    // of 10,000 comments (bench/comments.mjs, write p99).
    db.pragma('journal_size_limit = -1');
  }
  if (readOnly) db.pragma('query_only = ON');
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      try {
        stmt = db.prepare(sql);
      } catch (error) {
        throw translateSqliteError(error);
      }
      statements.set(sql, stmt);
    }
    return stmt;
  };
  const guard = <T>(f: () => T): Promise<T> => {
    try {
      return Promise.resolve(f());
    } catch (error) {
      return Promise.reject(translateSqliteError(error));
    }
  };
  const queryable: Queryable = {
    all: <T = Row>(sql: string, params: readonly Param[] = []) => guard(() => prepare(sql).all(...params) as T[]),
    get: <T = Row>(sql: string, params: readonly Param[] = []) =>
      guard(() => prepare(sql).get(...params) as T | undefined),
    run: (sql: string, params: readonly Param[] = []) => guard(() => prepare(sql).run(...params).changes),
  };
  return {
    db,
    exec(sql) {
      try {
        prepare(sql).run();
      } catch (error) {
        throw translateSqliteError(error);
      }
    },
    queryable,
    tx(hooks) {
      return {
        ...queryable,
        exec: (script: string) => guard(() => void db.exec(script)),
        afterCommit: (fn: () => void) => void hooks.push(fn),
        commitEarly: () => undefined,
      };
    },
  };
}
