import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Dialect, Store } from './types.js';

/** A numbered, frozen SQL file: `migrations/<dialect>/0001_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface SchemaStatus {
  /** Highest version recorded in the database (0 when empty). */
  current: number;
  /** Highest version this build knows. */
  latest: number;
  pending: Migration[];
  /** Versions recorded in the database that this build does not know. */
  unknown: number[];
  /** Versions whose file changed after it was applied. */
  altered: number[];
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

export function loadMigrations(dir: string, dialect: Dialect): Migration[] {
  const folder = join(dir, dialect);
  return readdirSync(folder)
    .filter((f) => FILE.test(f))
    .sort()
    .map((file) => {
      const [, version, name] = FILE.exec(file) as RegExpExecArray;
      const sql = readFileSync(join(folder, file), 'utf8');
      return { version: Number(version), name: name ?? '', sql, checksum: sha256(sql) };
    });
}

export async function schemaStatus(store: Store, migrations: Migration[]): Promise<SchemaStatus> {
  await store.write((tx) => tx.exec(TABLE));
  const applied = await store.q.all<{ version: number; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations ORDER BY version',
  );
  const known = new Map(migrations.map((m) => [m.version, m]));
  const done = new Set(applied.map((a) => a.version));
  return {
    current: applied.reduce((max, a) => Math.max(max, a.version), 0),
    latest: migrations.reduce((max, m) => Math.max(max, m.version), 0),
    pending: migrations.filter((m) => !done.has(m.version)),
    unknown: applied.filter((a) => !known.has(a.version)).map((a) => a.version),
    altered: applied
      .filter((a) => known.has(a.version) && known.get(a.version)?.checksum !== a.checksum)
      .map((a) => a.version),
  };
}

/**
 * Applies pending migrations in order, each in its own transaction with its
 * record. Refuses a database that is newer than this build or whose applied
 * files were edited. On PostgreSQL an advisory lock keeps two processes from
 * migrating at once.
 */
/** The latest applied version, read only: for readiness checks, which must write nothing (the server made the table at its start). */
export async function appliedVersion(store: Store): Promise<number> {
  const row = await store.q.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return row?.v ?? 0;
}

export async function migrate(store: Store, migrations: Migration[], clock: Clock): Promise<Migration[]> {
  const status = await schemaStatus(store, migrations);
  assertCompatible(status);
  const applied: Migration[] = [];
  for (const m of status.pending) {
    const ran = await store.write(async (tx) => {
      if (store.capabilities.advisoryLocks) await tx.exec('SELECT pg_advisory_xact_lock(4242001)');
      const already = await tx.get('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
      if (already) return false;
      await tx.exec(m.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [
        m.version,
        m.name,
        m.checksum,
        clock.now(),
      ]);
      return true;
    });
    if (ran) applied.push(m);
  }
  return applied;
}

export class SchemaError extends Error {
  override name = 'SchemaError';
}

export function assertCompatible(status: SchemaStatus): void {
  if (status.unknown.length > 0) {
    throw new SchemaError(
      `the database schema is newer than this build (unknown versions ${status.unknown.join(', ')}); upgrade Agora before starting it on this database`,
    );
  }
  if (status.altered.length > 0) {
    throw new SchemaError(
      `migration files ${status.altered.join(', ')} changed after they were applied; migrations are frozen — add a new one instead`,
    );
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
