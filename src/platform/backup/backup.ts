import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Dialect } from '../store/index.js';
import type { DialectBackup } from './dialect.js';
import {
  BackupError,
  checkFile,
  FORMAT,
  manifestPath,
  readManifest,
  sha256Of,
  writeManifest,
  type Manifest,
} from './manifest.js';
import { postgresBackup } from './postgres.js';
import { sqliteBackup } from './sqlite.js';

const DIALECTS: Record<Dialect, DialectBackup> = { sqlite: sqliteBackup, postgres: postgresBackup };
const dialectOf = (url: string): DialectBackup => (url.startsWith('sqlite:') ? sqliteBackup : postgresBackup);

/** `agora-20261204T101500123Z`: sorts by time. */
const stamp = (ms: number) => `agora-${new Date(ms).toISOString().replace(/[-:.]/g, '')}`;

/**
 * Takes a backup of the store at `url` into folder `dir` while the site
 * serves: the file, then its manifest (rows per table and schema version
 * of the same snapshot, size, SHA-256).
 */
export async function takeBackup(
  url: string,
  dir: string,
  now: () => number = Date.now,
): Promise<{ file: string; manifest: Manifest }> {
  const dialect = dialectOf(url);
  await mkdir(dir, { recursive: true });
  const takenAt = now();
  const file = join(dir, `${stamp(takenAt)}${dialect.extension}`);
  const partial = `${file}.partial`;
  try {
    const snapshot = await dialect.take(url, partial);
    const manifest: Manifest = {
      format: FORMAT,
      dialect: dialect.dialect,
      file: basename(file),
      bytes: (await stat(partial)).size,
      sha256: await sha256Of(partial),
      takenAt,
      ...snapshot,
    };
    await rename(partial, file);
    await writeManifest(file, manifest);
    return { file, manifest };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * Restores backup file `file` into the store at `url`, which must be empty:
 * the file is checked against its manifest first, and the restored store
 * after (`checkRestored`).
 */
export async function restoreBackup(file: string, url: string): Promise<Manifest> {
  const manifest = await readManifest(file);
  const dialect = dialectOf(url);
  if (manifest.dialect !== dialect.dialect)
    throw new BackupError(
      'wrong_store',
      `${file} is a ${manifest.dialect} backup; it restores into a ${manifest.dialect} store (to move stores, restore it into one, then \`agora migrate\`)`,
    );
  await checkFile(file, manifest);
  if (!(await dialect.isEmpty(url)))
    throw new BackupError('not_empty', 'the store to restore into is not empty: restore into a new, empty one');
  await dialect.restore(file, url);
  await checkRestored(dialect, url, manifest);
  return manifest;
}

/** The restored store passes its integrity checks and holds the manifest's schema version and rows, table by table. */
async function checkRestored(dialect: DialectBackup, url: string, manifest: Manifest): Promise<void> {
  const found = await dialect.inspect(url);
  const differences = [...found.problems];
  if (found.schemaVersion !== manifest.schemaVersion)
    differences.push(`schema version ${found.schemaVersion}, the backup's is ${manifest.schemaVersion}`);
  for (const table of new Set([...Object.keys(manifest.tables), ...Object.keys(found.tables)])) {
    const [want, got] = [manifest.tables[table], found.tables[table]];
    if (want !== got)
      differences.push(`${table}: ${got ?? 'no table'} rows, the backup's source had ${want ?? 'none'}`);
  }
  if (differences.length > 0)
    throw new BackupError(
      'mismatch',
      `the restored store differs from the backup's source: ${differences.slice(0, 10).join('; ')}`,
    );
}

/**
 * Verifies backup file `file`: restores it into a scratch store (beside
 * `near` for PostgreSQL: a new database on its server), checks it, drops
 * it, and records the time in the manifest. A backup counts once this passed.
 */
export async function verifyBackup(file: string, near: string, now: () => number = Date.now): Promise<Manifest> {
  const manifest = await readManifest(file);
  const dialect = DIALECTS[manifest.dialect];
  if (manifest.dialect === 'postgres' && !near.startsWith('postgres'))
    throw new BackupError(
      'wrong_store',
      `${file} is a PostgreSQL backup: verify it with AGORA_DATABASE_URL naming a PostgreSQL server`,
    );
  const scratch = await dialect.scratch(near);
  try {
    await restoreBackup(file, scratch.url);
  } finally {
    await scratch.drop();
  }
  const verified = { ...manifest, verifiedAt: now() };
  await writeManifest(file, verified);
  return verified;
}

/** The finished backups in `dir` (those with a manifest), oldest first. */
export async function listBackups(dir: string): Promise<{ file: string; manifest: Manifest }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: { file: string; manifest: Manifest }[] = [];
  for (const name of names) {
    if (!name.startsWith('agora-') || !name.endsWith('.json')) continue;
    const file = join(dir, name.slice(0, -'.json'.length));
    try {
      found.push({ file, manifest: await readManifest(file) });
    } catch {
      // Not one of ours, or damaged: left for the operator to look at.
    }
  }
  return found.sort((a, b) => a.manifest.takenAt - b.manifest.takenAt);
}

/**
 * Keeps the newest `keep` verified backups in `dir` and removes every
 * backup older than the oldest of them (verified or not), and unfinished
 * files (`.partial`) left more than `staleMs` ago by a run that stopped.
 * Nothing is removed until `keep` verified backups exist.
 */
export async function pruneBackups(
  dir: string,
  keep: number,
  now: () => number = Date.now,
  staleMs = 3_600_000,
): Promise<string[]> {
  const all = await listBackups(dir);
  const verified = all.filter((b) => b.manifest.verifiedAt !== undefined);
  const removed: string[] = [];
  if (verified.length >= keep) {
    const oldestKept = verified[verified.length - keep]!.manifest.takenAt;
    for (const b of all)
      if (b.manifest.takenAt < oldestKept) {
        await rm(b.file, { force: true });
        await rm(manifestPath(b.file), { force: true });
        removed.push(b.file);
      }
  }
  for (const name of await readdir(dir).catch(() => [] as string[]))
    if (name.startsWith('agora-') && name.endsWith('.partial')) {
      const path = join(dir, name);
      if (now() - (await stat(path)).mtimeMs > staleMs) {
        await rm(path, { force: true });
        removed.push(path);
      }
    }
  return removed;
}
