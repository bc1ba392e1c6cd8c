/**
 * Runs in a worker thread beside the SQLite store: the store's long reads
 * (`Store.bulk`: a live migration's copy slices) on a read-only connection of
 * their own, so that the site's event loop never waits for them. The thread
 * runs at a lower CPU priority than the rest of the process (Linux: a
 * thread's nice value is its own), so on a busy machine the site's requests
 * go first and the copy takes what is left.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

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

export type BulkAnswer = { id: number; value: unknown } | { id: number; error: { message: string; code?: string } };

const { path, nice } = workerData as BulkReaderData;
if (nice > 0)
  try {
    // /proc/thread-self is "<pid>/task/<tid>"; setpriority on a thread id changes that thread alone.
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
  } catch {
    // Not Linux, or not allowed: the reads run at the process's priority.
  }
const db = new Database(path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const statements = new Map<string, Database.Statement>();

/**
 * The memory of the blobs in an answer, moved to the main thread instead of
 * copied (a slice of the copy, cast to a blob, arrives without becoming a
 * string on the site's heap).
 */
function blobsOf(value: unknown): ArrayBuffer[] {
  const rows = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
  const out: ArrayBuffer[] = [];
  for (const row of rows)
    for (const v of Object.values(row as object))
      // A Buffer of its own memory (better-sqlite3 gives one per blob); pooled small ones are copied.
      if (
        v instanceof Uint8Array &&
        v.byteOffset === 0 &&
        v.byteLength === v.buffer.byteLength &&
        v.buffer instanceof ArrayBuffer
      )
        out.push(v.buffer);
  return out;
}

parentPort?.on('message', (message: BulkQuery | 'stop') => {
  if (message === 'stop') {
    db.close();
    parentPort?.close();
    return;
  }
  const { id, sql, params, mode } = message;
  try {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare(sql)));
    const value =
      mode === 'all'
        ? statement.all(...params)
        : mode === 'get'
          ? statement.get(...params)
          : statement.run(...params).changes;
    parentPort?.postMessage({ id, value } satisfies BulkAnswer, blobsOf(value));
  } catch (error) {
    const e = error as { message: string; code?: string };
    parentPort?.postMessage({ id, error: { message: e.message, code: e.code } } satisfies BulkAnswer);
  }
});
