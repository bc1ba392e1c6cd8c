/**
 * Runs in a worker thread beside the SQLite store: the store's bulk work
 * (`Store.bulk`, `Store.bulkWrite`: a live migration's copy slices, the
 * indexes it builds at the end) on connections of its own — a query-only one,
 * and a write connection opened at the first transaction — so that the
 * site's event loop never waits for it, at a lower CPU priority than the
 * rest of the process. A transaction here runs only while the store holds
 * its own writer back (store.ts), so the two never wait for each other's
 * lock. A blob in an answer is moved to the site's thread as bytes.
 */
import { workerData } from 'node:worker_threads';
import type { BulkRequest } from '../worker-channel.js';
import { lowerThisThread, serve } from '../worker-serve.js';
import { openConnection, type Connection, type ConnectionOptions } from './connection.js';

export interface BulkWorkerData extends ConnectionOptions {
  /** Added to the thread's nice value (0: unchanged). */
  nice: number;
}

const data = workerData as BulkWorkerData;
lowerThisThread(data.nice);
// Opened as the store opens its own: the reader query-only, the writer at the first transaction.
const reader = openConnection(data, true);
let writer: Connection | null = null;
/** The open transaction's number (one at a time: SQLite has one writer). */
let open: number | null = null;
let nextTx = 0;

function inTransaction(tx: number): Connection {
  if (open !== tx || !writer) throw new Error(`no open bulk transaction ${tx}`);
  return writer;
}

serve<BulkRequest>(
  (r) => {
    switch (r.op) {
      case 'query':
        return reader.queryable[r.mode](r.sql, r.params as never[]);
      case 'begin': {
        if (open !== null) throw new Error('a bulk transaction is already open');
        writer ??= openConnection(data, false);
        writer.exec('BEGIN IMMEDIATE');
        open = nextTx++;
        return open;
      }
      case 'tx':
        return inTransaction(r.tx).queryable[r.mode](r.sql, r.params as never[]);
      case 'exec':
        return inTransaction(r.tx).tx([]).exec(r.sql);
      case 'end': {
        const w = inTransaction(r.tx);
        open = null;
        try {
          if (!r.commit) return 'ROLLBACK';
          w.exec('COMMIT');
          return 'COMMIT';
        } finally {
          if (w.db.inTransaction) w.exec('ROLLBACK'); // a COMMIT that failed leaves nothing open
        }
      }
    }
  },
  () => {
    if (writer?.db.inTransaction) writer.exec('ROLLBACK');
    writer?.db.close();
    reader.db.close();
  },
);
