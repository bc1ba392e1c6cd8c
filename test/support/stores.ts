import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import pg from 'pg';
import { systemClock, type Clock } from '../../src/platform/clock.js';
import {
  createStoreHandle,
  loadMigrations,
  migrate,
  openStore,
  type StoreHandle,
} from '../../src/platform/store/index.js';
import { migrationsDir } from '../../src/paths.js';

/**
 * Every storage-touching test runs on both stores; `AGORA_TEST_STORES=sqlite`
 * (or `postgres`) runs one only, and the tests that need the other are
 * skipped, saying so.
 */
const ALL_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof ALL_KINDS)[number];
export const STORE_KINDS: readonly StoreKind[] = (() => {
  const asked = (process.env.AGORA_TEST_STORES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = asked.filter((s) => !(ALL_KINDS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`AGORA_TEST_STORES: unknown store ${unknown.join(', ')} (sqlite, postgres)`);
  return asked.length === 0 ? ALL_KINDS : ALL_KINDS.filter((k) => asked.includes(k));
})();

export function describeStores(name: string, fn: (kind: StoreKind) => void): void {
  for (const kind of STORE_KINDS) describe(`${name} [${kind}]`, () => fn(kind));
}

/** Options for a test or suite that needs one store: skipped, with the reason, when AGORA_TEST_STORES leaves it out. */
export function needs(kind: StoreKind): { skip?: string } {
  return STORE_KINDS.includes(kind) ? {} : { skip: `AGORA_TEST_STORES leaves out ${kind}` };
}

function pgAdminUrl(): string {
  const url = process.env.AGORA_TEST_PG_URL;
  if (!url) throw new Error('AGORA_TEST_PG_URL is not set: run the tests with `npm test`, which starts PostgreSQL');
  return url;
}

/** A new empty database: a fresh SQLite file, or a new PostgreSQL database on the test server. */
export async function freshDatabase(kind: StoreKind): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'agora-test-'));
    return { url: `sqlite:${join(dir, 'agora.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = pgAdminUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(admin);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A migrated store handle on a fresh database. */
export async function openTestStore(kind: StoreKind, clock: Clock = systemClock) {
  const db = await freshDatabase(kind);
  const store: StoreHandle = createStoreHandle(openStore({ url: db.url, sqliteSync: 'normal', pgPoolSize: 10 }));
  await migrate(store, loadMigrations(migrationsDir(), store.dialect), clock);
  return {
    store,
    url: db.url,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}
