/**
 * Backups with tested restores: `takeBackup` (online, one snapshot, rows
 * counted in it), `restoreBackup` into an empty store, `verifyBackup` into a
 * scratch store, retention, and the server's schedule. See README.md.
 */
export { listBackups, pruneBackups, restoreBackup, takeBackup, verifyBackup } from './backup.js';
export { BackupError, type Manifest } from './manifest.js';
export { createBackupSchedule } from './schedule.js';
