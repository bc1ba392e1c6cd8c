/**
 * Runs in a worker thread beside the SQLite store: copies the WAL back into
 * the database file every `intervalMs` with its own connection (a PASSIVE
 * checkpoint: it never blocks the writer or readers). The writer's automatic
 * checkpoint is off, so a commit never waits for a checkpoint and its fsync;
 * durability is unchanged (a commit is in the WAL before it is answered).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointerData {
  path: string;
  intervalMs: number;
}

const { path, intervalMs } = workerData as CheckpointerData;
const db = new Database(path);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message });
  }
}, intervalMs);

parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
