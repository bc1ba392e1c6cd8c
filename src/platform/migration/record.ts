import { resolve } from 'node:path';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { redact } from '../store/postgres/store.js';
import { STATE_TABLE } from './apply.js';

/**
 * The migration's record, kept in both stores (each copy says which side it
 * is on). Every change of phase writes it first to the store that is the
 * primary afterwards, then to the other, with a step number one higher: after
 * a crash between the two writes the copy with the higher step is the truth,
 * and it names the primary. A process started with either store's URL reads
 * it and serves from the primary it names — never from a retired store.
 */
export type Phase = 'idle' | 'copying' | 'streaming' | 'cut_over' | 'done' | 'rolled_back' | 'aborted' | 'failed';

export interface VerifyReport {
  at: number;
  mismatches: number;
  /** Rows that kept changing through every re-check (compared again, writes paused, at the cutover). */
  changing: number;
  tables: { name: string; sourceRows: number; targetRows: number; mismatches: number; keys: unknown[][] }[];
}

export interface MigrationRecord {
  id: string;
  /** The side of the store holding this copy. */
  role: 'source' | 'target';
  phase: Phase;
  source: string;
  target: string;
  startedAt: number;
  copiedAt: number | null;
  /** Each table's rows when the copy began and its largest key then (the copy's end: later rows come by the log). */
  tables: { name: string; rows: number; until: unknown[] | null }[];
  verify: VerifyReport | null;
  cutover: { at: number; pauseMs: number } | null;
  error: string | null;
  step: number;
  updatedAt: number;
}

const RECORD = 'migration';

/** Phases in which the target is the primary. */
export const targetIsPrimary = (phase: Phase) => phase === 'cut_over' || phase === 'done';
/** Phases in which a migration holds its stores (a second start is refused). */
export const isRunning = (phase: Phase) =>
  phase === 'copying' || phase === 'streaming' || phase === 'cut_over' || phase === 'failed';

async function hasStateTable(store: Store): Promise<boolean> {
  const found =
    store.dialect === 'postgres'
      ? await store.q.get<{ t: string | null }>(`SELECT to_regclass('${STATE_TABLE}')::text AS t`)
      : await store.q.get<{ t: string }>(`SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name = ?`, [
          STATE_TABLE,
        ]);
  return Boolean(found?.t);
}

/** The store's copy of the record, or null (no migration ever touched it). */
export async function readRecord(store: Store): Promise<MigrationRecord | null> {
  if (!(await hasStateTable(store))) return null;
  const row = await store.q.get<{ value: string }>(`SELECT value FROM ${STATE_TABLE} WHERE name = ?`, [RECORD]);
  return row ? (JSON.parse(row.value) as MigrationRecord) : null;
}

/** Writes the record to the store: `role` says which side the store is. */
export async function writeRecord(store: Store, record: Omit<MigrationRecord, 'role'>, role: 'source' | 'target') {
  await store.write(async (tx) => {
    await tx.exec(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    await tx.run(
      `INSERT INTO ${STATE_TABLE} (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      [RECORD, JSON.stringify({ ...record, role })],
    );
  });
}

/** The URL without its password (status answers, logs). */
export function redactUrl(url: string): string {
  return url.startsWith('sqlite:') ? url : redact(url);
}

/** The same store named two ways: a SQLite file by its absolute path, PostgreSQL by host, port and database. */
export function sameStore(a: string, b: string): boolean {
  const key = (url: string) => {
    if (url.startsWith('sqlite:')) return `sqlite:${resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''))}`;
    const u = new URL(url);
    const host = u.hostname === '127.0.0.1' || u.hostname === '' ? 'localhost' : u.hostname;
    const params = u.searchParams.get('host') ?? host;
    return `postgres://${params}:${u.port || '5432'}${u.pathname}`;
  };
  try {
    return key(a) === key(b);
  } catch {
    return false;
  }
}

/**
 * The store a process must serve from, given the one its configuration
 * names: itself, unless a migration's record (the later of the two copies)
 * says the other side is the primary — then the process follows it, logging
 * that the configuration should be updated, or refuses to start when the
 * primary cannot be reached. It never writes to the retired side.
 */
export async function followPrimary(
  configured: Store,
  url: string,
  open: (url: string) => Store,
  log: Logger,
): Promise<{ store: Store; url: string }> {
  const mine = await readRecord(configured);
  if (!mine || (mine.phase === 'done' && mine.role === 'target')) return { store: configured, url };
  const otherUrl = mine.role === 'source' ? mine.target : mine.source;
  let other: Store | null = null;
  let theirs: MigrationRecord | null = null;
  try {
    other = open(otherUrl);
    theirs = await readRecord(other);
  } catch {
    theirs = null;
  }
  const latest = theirs && theirs.id === mine.id && theirs.step > mine.step ? theirs : mine;
  const primary = targetIsPrimary(latest.phase) ? 'target' : 'source';
  if (primary === mine.role) {
    await other?.close().catch(() => undefined);
    return { store: configured, url };
  }
  if (!other || !theirs) {
    await other?.close().catch(() => undefined);
    throw new Error(
      `AGORA_DATABASE_URL names the ${mine.role} of a migration (phase ${latest.phase}) whose primary is ${redactUrl(otherUrl)}, which cannot be reached: this store must not be written; start with AGORA_DATABASE_URL set to the primary`,
    );
  }
  log.warn(
    { configured: redactUrl(url), primary: redactUrl(otherUrl), phase: latest.phase },
    'AGORA_DATABASE_URL names a store a migration moved away from: serving from its primary instead; update AGORA_DATABASE_URL',
  );
  await configured.close();
  return { store: other, url: otherUrl };
}
