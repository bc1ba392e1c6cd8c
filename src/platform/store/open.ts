import { resolve } from 'node:path';
import { createPostgresStore } from './postgres/store.js';
import { createSqliteStore, type SqliteSync } from './sqlite/store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  url: string;
  sqliteSync: SqliteSync;
  pgPoolSize: number;
  onIdleError?: (error: Error) => void;
  /** SQLite: the WAL checkpoint worker failed (the writer then checkpoints by itself). */
  onCheckpointError?: (error: Error) => void;
  /** Foreign keys checked (default); off only for a live migration's applier (see the adapters). */
  foreignKeys?: boolean;
  /** PostgreSQL read replicas of this store (`store.replica`). */
  replicas?: { urls: string[]; maxLagMs: number };
}

/** The file a `sqlite:` URL names (`sqlite:./data/agora.db`, `sqlite:///abs/path`), as given. */
export function sqlitePathOf(url: string): string {
  const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (!path) throw new Error(`AGORA_DATABASE_URL "${url}" names no file`);
  return path;
}

/** `sqlite:<path>` or `postgres://…` -> a Store. */
export function openStore(options: OpenStoreOptions): Store {
  const { url } = options;
  if (url.startsWith('sqlite:')) {
    if (options.replicas?.urls.length)
      throw new Error('AGORA_DATABASE_REPLICA_URLS needs a PostgreSQL store: a SQLite store has no replicas');
    const path = sqlitePathOf(url);
    return createSqliteStore({
      path: path === ':memory:' ? path : resolve(path),
      sync: options.sqliteSync,
      ...(options.foreignKeys === false ? { foreignKeys: false } : {}),
      ...(options.onCheckpointError ? { onCheckpointError: options.onCheckpointError } : {}),
    });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return createPostgresStore({
      url,
      poolSize: options.pgPoolSize,
      onIdleError: options.onIdleError,
      ...(options.foreignKeys === false ? { foreignKeys: false } : {}),
      ...(options.replicas?.urls.length ? { replicas: options.replicas } : {}),
    });
  }
  throw new Error(`AGORA_DATABASE_URL must start with sqlite: or postgres:// (got "${url.split(':')[0]}:")`);
}
