import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { sqlitePathOf } from '../store/index.js';
import type { DialectBackup, Snapshot } from './dialect.js';

const fileOf = (url: string) => resolve(sqlitePathOf(url));

/** The tables' rows and the schema version, as the connection's transaction sees them. */
function snapshotOf(db: Database.Database): Snapshot {
  const names = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
    )
    .pluck()
    .all() as string[];
  const tables: Record<string, number> = {};
  for (const name of names)
    tables[name] = db
      .prepare(`SELECT count(*) FROM "${name.replace(/"/g, '""')}"`)
      .pluck()
      .get() as number;
  const schemaVersion = names.includes('schema_migrations')
    ? ((db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number | null) ?? 0)
    : 0;
  return { tables, schemaVersion };
}

const open = (path: string) => {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  return db;
};

/**
 * SQLite: SQLite's online backup API, run inside a read transaction of its
 * own connection. The transaction fixes one snapshot (WAL: the server's
 * writes go on beside it); the rows are counted in it, and the backup
 * copies the pages of that same snapshot — it uses the transaction already
 * open rather than starting one per step, so the copy never restarts and is
 * exactly what was counted.
 */
export const sqliteBackup: DialectBackup = {
  dialect: 'sqlite',
  extension: '.sqlite',

  async take(url, out) {
    const db = open(fileOf(url));
    try {
      db.exec('BEGIN');
      const snapshot = snapshotOf(db);
      await db.backup(out);
      db.exec('COMMIT');
      return snapshot;
    } finally {
      db.close();
    }
  },

  async isEmpty(url) {
    const path = fileOf(url);
    if (!existsSync(path) || statSync(path).size === 0) return true;
    const db = open(path);
    try {
      return Object.keys(snapshotOf(db).tables).length === 0;
    } finally {
      db.close();
    }
  },

  async restore(file, url) {
    const path = fileOf(url);
    await mkdir(dirname(path), { recursive: true });
    // Copied beside the target, then moved over it whole; an empty file's journal goes with it.
    await copyFile(file, `${path}.restoring`);
    for (const stale of [`${path}-wal`, `${path}-shm`]) await rm(stale, { force: true });
    await rename(`${path}.restoring`, path);
  },

  async inspect(url) {
    const db = open(fileOf(url));
    try {
      const integrity = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
      const problems = integrity.map((r) => r.integrity_check).filter((line) => line !== 'ok');
      for (const r of db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[])
        problems.push(`${r.table} row ${r.rowid}: no ${r.parent} row it refers to`);
      return { ...snapshotOf(db), problems };
    } finally {
      db.close();
    }
  },

  async scratch() {
    const dir = mkdtempSync(join(tmpdir(), 'agora-verify-'));
    return { url: `sqlite:${join(dir, 'scratch.db')}`, drop: () => rm(dir, { recursive: true, force: true }) };
  },
};
