/**
 * Runs in a worker thread beside the SQLite store: the store's long reads
 * (`Store.bulk`: a live migration's copy slices) on a read-only connection of
 * their own, so that the site's event loop never waits for them, at a lower
 * CPU priority than the rest of the process. A blob in an answer (a copy
 * slice cast to a blob) is moved to the site's thread as bytes.
 */
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { lowerThisThread, serve } from '../worker-serve.js';

export interface BulkReaderData {
  path: string;
  /** Added to the thread's nice value (0: unchanged). */
  nice: number;
}

export interface BulkQuery {
  id: number;
  sql: string;
  params: unknown[];
  /** 'all': every row; 'get': the first; 'run': the number changed (a read-only connection refuses writes). */
  mode: 'all' | 'get' | 'run';
}

const { path, nice } = workerData as BulkReaderData;
lowerThisThread(nice);
const db = new Database(path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const statements = new Map<string, Database.Statement>();

serve<BulkQuery>(
  ({ sql, params, mode }) => {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare(sql)));
    return mode === 'all'
      ? statement.all(...params)
      : mode === 'get'
        ? statement.get(...params)
        : statement.run(...params).changes;
  },
  () => void db.close(),
);
