import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { systemClock } from '../clock.js';
import { describeStores, freshDatabase } from '../../../test/support/stores.js';
import { loadMigrations, migrate, openStore, schemaStatus, SchemaError, type Store } from './index.js';

describeStores('schema migrations', (kind) => {
  let dir: string;
  let store: Store;
  let drop: () => Promise<void>;
  const folder = () => join(dir, kind);
  const write = (file: string, sql: string) => writeFileSync(join(folder(), file), sql);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agora-mig-'));
    mkdirSync(folder());
    const db = await freshDatabase(kind);
    drop = db.drop;
    store = openStore({ url: db.url, sqliteSync: 'normal', pgPoolSize: 2 });
  });
  after(async () => {
    await store.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('applies numbered files in order, records each, and is idempotent', async () => {
    write('0001_first.sql', 'CREATE TABLE m_one (id TEXT PRIMARY KEY);');
    write('0002_second.sql', 'ALTER TABLE m_one ADD COLUMN note TEXT;');
    write('README.txt', 'not a migration');
    const applied = await migrate(store, loadMigrations(dir, kind), systemClock);
    assert.deepEqual(
      applied.map((m) => m.version),
      [1, 2],
    );
    assert.deepEqual(await migrate(store, loadMigrations(dir, kind), systemClock), []);
    const rows = await store.q.all<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations ORDER BY version',
    );
    assert.deepEqual(rows, [
      { version: 1, name: 'first' },
      { version: 2, name: 'second' },
    ]);
    await store.write((tx) => tx.run('INSERT INTO m_one (id, note) VALUES (?, ?)', ['x', 'ok']));
  });

  test('a failing migration leaves no trace and no record', async () => {
    write('0003_broken.sql', 'CREATE TABLE m_two (id TEXT PRIMARY KEY); THIS IS NOT SQL;');
    await assert.rejects(migrate(store, loadMigrations(dir, kind), systemClock));
    const status = await schemaStatus(store, loadMigrations(dir, kind));
    assert.equal(status.current, 2);
    assert.deepEqual(
      status.pending.map((m) => m.version),
      [3],
    );
    await assert.rejects(store.q.get('SELECT * FROM m_two'));
    rmSync(join(folder(), '0003_broken.sql'));
  });

  test('a database newer than the build is refused', async () => {
    await store.write((tx) =>
      tx.run('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [
        9999,
        'future',
        'x',
        1,
      ]),
    );
    await assert.rejects(
      migrate(store, loadMigrations(dir, kind), systemClock),
      (e: unknown) => e instanceof SchemaError && /newer/.test(e.message),
    );
    await store.write((tx) => tx.run('DELETE FROM schema_migrations WHERE version = ?', [9999]));
  });

  test('an applied file that was edited is refused', async () => {
    write('0002_second.sql', 'ALTER TABLE m_one ADD COLUMN other TEXT;');
    await assert.rejects(
      migrate(store, loadMigrations(dir, kind), systemClock),
      (e: unknown) => e instanceof SchemaError && /frozen/.test(e.message),
    );
  });
});
