import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { BackupError } from './manifest.js';
import type { DialectBackup, Snapshot } from './dialect.js';

/**
 * A PostgreSQL client program: from `AGORA_PG_BIN` if set, else the newest
 * installed version's (Debian: /usr/lib/postgresql/<v>/bin; pg_dump must be at
 * least the server's version), else the one on the PATH.
 */
export function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  const dirs = process.env.AGORA_PG_BIN ? [process.env.AGORA_PG_BIN] : [];
  if (existsSync('/usr/lib/postgresql'))
    for (const v of readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)))
      dirs.push(`/usr/lib/postgresql/${v}/bin`);
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path)) ?? name;
}

/** Runs a client program with the URL's password in its environment, never on its command line. */
function runTool(name: 'pg_dump' | 'pg_restore', url: string, args: string[]): Promise<void> {
  const target = new URL(url);
  const password = decodeURIComponent(target.password);
  target.password = '';
  return new Promise((resolve, reject) => {
    execFile(
      pgTool(name),
      [...args, `--dbname=${target.toString()}`],
      { env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new BackupError(
            'tool',
            missing
              ? `${name} not found: install PostgreSQL's client programs (Debian: apt-get install postgresql-client) or set AGORA_PG_BIN`
              : `${name} failed: ${stderr.trim().split('\n').slice(-3).join(' ') || error.message}`,
          ),
        );
      },
    );
  });
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'agora-backup' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The tables' rows and the schema version, as the client's transaction (or statement) sees them. */
async function snapshotOf(client: pg.Client): Promise<Snapshot> {
  const { rows } = await client.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  const tables: Record<string, number> = {};
  for (const { name } of rows)
    tables[name] = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(name)}`)).rows[0]!.n);
  const schemaVersion =
    'schema_migrations' in tables
      ? Number(
          (await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]!.v ?? 0,
        )
      : 0;
  return { tables, schemaVersion };
}

/**
 * PostgreSQL: `pg_dump` (custom format) of an exported snapshot. A
 * repeatable-read transaction exports its snapshot and counts the rows in
 * it; `pg_dump --snapshot` dumps that same snapshot while the transaction
 * stays open, so the counts are the dump's, whatever the site writes
 * meanwhile.
 */
export const postgresBackup: DialectBackup = {
  dialect: 'postgres',
  extension: '.dump',

  take: (url, out) =>
    withClient(url, async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { snapshot } = (await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot'))
        .rows[0]!;
      const counted = await snapshotOf(client);
      await runTool('pg_dump', url, ['--format=custom', `--snapshot=${snapshot}`, `--file=${out}`]);
      await client.query('COMMIT');
      return counted;
    }),

  isEmpty: (url) => withClient(url, async (client) => Object.keys((await snapshotOf(client)).tables).length === 0),

  // One transaction, stopping at the first error: a restore is whole or not at all.
  restore: (file, url) =>
    runTool('pg_restore', url, ['--exit-on-error', '--single-transaction', '--no-owner', '--no-privileges', file]),

  inspect: (url) =>
    withClient(url, async (client) => {
      // The constraints were checked as the restore built them; an index left invalid would not have been.
      const invalid = await client.query<{ name: string }>(
        'SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid',
      );
      return { ...(await snapshotOf(client)), problems: invalid.rows.map((r) => `index ${r.name} is invalid`) };
    }),

  async scratch(near) {
    const name = `agora_verify_${randomBytes(6).toString('hex')}`;
    await withClient(near, async (client) => {
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } catch (error) {
        throw new BackupError(
          'tool',
          `verifying a backup restores it into a scratch database on the same server, which could not be made: ${(error as Error).message} (the role needs CREATEDB)`,
        );
      }
    });
    const url = new URL(near);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      drop: () =>
        withClient(near, async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
    };
  },
};
