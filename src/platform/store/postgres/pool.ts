import pg from 'pg';
import { toPositional } from './placeholders.js';

/** How to reach the server: shared by the store's pool and its bulk worker's. */
export interface PostgresConnectionOptions {
  url: string;
  /** Longest a statement may run, in milliseconds. */
  statementTimeoutMs?: number;
  /**
   * Foreign keys (and triggers) checked (default). Off only for a live
   * migration's applier: its connections run with
   * `session_replication_role = replica`, which needs a superuser or, from
   * PostgreSQL 15, `GRANT SET ON PARAMETER session_replication_role`.
   */
  foreignKeys?: boolean;
}

/** The longest a statement or a transaction waits for a pooled connection. */
const CONNECT_WAIT_MS = 30_000;

const INT8 = 20;
const NUMERIC = 1700;

/** A pool of at most `max` connections; bigint and numeric come back as numbers so rows look the same as SQLite's. */
export function poolConfig(options: PostgresConnectionOptions, max: number): pg.PoolConfig {
  return {
    connectionString: options.url,
    max,
    application_name: 'agora',
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    // A transaction must never wait for a second connection (its callers pass it
    // down instead); if one did, with the pool full of such transactions, this
    // bound turns the wait into an error (503) instead of a process that answers
    // nothing more.
    connectionTimeoutMillis: CONNECT_WAIT_MS,
    ...(options.foreignKeys === false ? { options: '-c session_replication_role=replica' } : {}),
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8 || oid === NUMERIC
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  };
}

/** Each statement's text with `$n` placeholders, named so that each connection prepares it once. */
export function preparedStatements(): (sql: string) => { name: string; text: string } {
  const names = new Map<string, { name: string; text: string }>();
  return (sql) => {
    let s = names.get(sql);
    if (!s) {
      s = { name: `s${names.size}`, text: toPositional(sql) };
      names.set(sql, s);
    }
    return s;
  };
}

/** PostgreSQL's answer to a statement sent after another one of its transaction failed. */
export const IN_FAILED_TRANSACTION = '25P02';
