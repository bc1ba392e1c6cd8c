import { Counter, Gauge } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { listBackups, pruneBackups } from './backup.js';

export interface BackupScheduleOptions {
  dir: string;
  everyMs: number;
  keep: number;
  /**
   * One backup, verified, into `dir` (resolves when it passed; rejects with
   * what failed). The server runs `agora backup --verify` as a child
   * process: counting rows and SQLite's integrity check are synchronous
   * work that would hold this process's event loop.
   */
  run: () => Promise<void>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/**
 * Scheduled backups: one every `everyMs` after the newest verified one in
 * `dir` (at once when it is older, or there is none), each verified, the
 * newest `keep` verified ones kept. Exports the last verified backup's age.
 */
export function createBackupSchedule(options: BackupScheduleOptions) {
  const { dir, everyMs, keep, clock, log } = options;
  let lastVerified: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  new Gauge({
    name: 'agora_backup_last_verified_age_seconds',
    help: 'Age of the newest verified backup in AGORA_BACKUP_DIR (-1: none yet)',
    registers: [options.metrics.registry],
    collect() {
      this.set(lastVerified === null ? -1 : (clock.now() - lastVerified) / 1000);
    },
  });
  const failures = new Counter({
    name: 'agora_backup_failures_total',
    help: 'Scheduled backups that failed to be taken or verified',
    registers: [options.metrics.registry],
  });

  const newestVerified = async () => {
    const verified = (await listBackups(dir)).filter((b) => b.manifest.verifiedAt !== undefined);
    return verified.at(-1)?.manifest.takenAt ?? null;
  };

  const schedule = () => {
    if (stopped) return;
    const due = lastVerified === null ? 0 : Math.max(0, lastVerified + everyMs - clock.now());
    timer = setTimeout(() => {
      running = once().finally(() => {
        running = null;
        schedule();
      });
    }, due);
    timer.unref();
  };

  async function once(): Promise<void> {
    const started = clock.now();
    try {
      await options.run();
      lastVerified = (await newestVerified()) ?? lastVerified;
      const removed = await pruneBackups(dir, keep, () => clock.now());
      log.info({ dir, ms: clock.now() - started, removed: removed.length }, 'backup: taken and verified');
    } catch (error) {
      failures.inc();
      log.error({ err: error, dir }, 'backup: failed');
      // Tried again after a tenth of the interval (at least a minute), not at once in a loop.
      lastVerified = Math.max(lastVerified ?? 0, clock.now() - everyMs + Math.max(60_000, everyMs / 10));
    }
  }

  return {
    async start(): Promise<void> {
      lastVerified = await newestVerified();
      schedule();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
