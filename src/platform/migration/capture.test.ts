import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { describeStores, needs, openTestStore } from '../../../test/support/stores.js';
import { migrationsDir } from '../../paths.js';
import type { StoreHandle } from '../store/index.js';
import { capturedTables, changesAfter, installCapture, LOG_START, removeCapture } from './capture.js';
import { isMigrated, liveTables } from './schema.js';

/** Every table Agora's migrations make, by their own text: what capture must cover. */
function tablesOfMigrations(dialect: 'sqlite' | 'postgres'): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(join(migrationsDir(), dialect)))
    for (const m of readFileSync(join(migrationsDir(), dialect, file), 'utf8').matchAll(
      /CREATE (VIRTUAL )?TABLE (?:IF NOT EXISTS )?([a-z_]+)/gi,
    ))
      if (!m[1]) names.add((m[2] as string).toLowerCase());
  return [...names].filter(isMigrated).sort();
}

/**
 * Every logged change, once all are readable: on PostgreSQL the horizon is the
 * server's oldest running transaction, and the test runner's other files run
 * transactions on the same server.
 */
async function allChanges(store: StoreHandle, from = LOG_START) {
  for (const until = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 20))) {
    const total = (
      await store.q.get<{ n: number }>('SELECT COUNT(*) AS n FROM migration_changes WHERE (txid, seq) > (?, ?)', [
        from.txid,
        from.seq,
      ])
    )?.n;
    const read = await changesAfter(store, from, 1000);
    if (read.length === total || Date.now() > until) return read;
  }
}

describeStores('change capture', (kind) => {
  let store: StoreHandle;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store, close } = await openTestStore(kind));
  });
  afterEach(() => close());

  const put = (source: string, id: string, local: string) =>
    store.write((tx) =>
      tx.run('INSERT INTO import_map (source, external_id, local_id) VALUES (?, ?, ?)', [source, id, local]),
    );

  test('every table the migrations make is captured, with its primary key (a new table without capture fails here)', async () => {
    const tables = await installCapture(store);
    assert.deepEqual(
      tables.map((t) => t.name),
      tablesOfMigrations(kind),
    );
    assert.deepEqual(await capturedTables(store), tablesOfMigrations(kind));
    for (const t of tables) assert.ok(t.primaryKey.length > 0, `${t.name} has a primary key`);
    assert.deepEqual((await liveTables(store)).find((t) => t.name === 'import_map')?.primaryKey, [
      'source',
      'external_id',
    ]);
    await installCapture(store); // again: nothing doubles
    await put('s', '1', 'a');
    assert.equal((await allChanges(store)).length, 1);
  });

  test('inserts, updates and deletes are logged by key in the writing transaction; a rollback logs nothing', async () => {
    await installCapture(store);
    await put('s', '1', 'a');
    await store.write((tx) => tx.run("UPDATE import_map SET local_id = 'b' WHERE source = 's'"));
    await store.write((tx) => tx.run("UPDATE import_map SET external_id = '2' WHERE source = 's'")); // a key change
    await assert.rejects(
      store.write(async (tx) => {
        await tx.run("INSERT INTO import_map (source, external_id, local_id) VALUES ('s', '9', 'x')");
        throw new Error('roll back');
      }),
    );
    await store.write((tx) => tx.run("DELETE FROM import_map WHERE source = 's'"));
    const log = await allChanges(store);
    assert.deepEqual(
      log.map((c) => [c.table, c.key, c.op]),
      [
        ['import_map', ['s', '1'], 'I'],
        ['import_map', ['s', '1'], 'U'],
        ['import_map', ['s', '1'], 'D'],
        ['import_map', ['s', '2'], 'U'],
        ['import_map', ['s', '2'], 'D'],
      ],
      'the old key of a key change is logged as gone',
    );
    const last = log[log.length - 1]!;
    assert.deepEqual(await allChanges(store, last), [], 'nothing after the last position read');
    assert.ok(log.every((c) => Math.abs(c.at - Date.now()) < 60_000));
  });

  test('removing capture leaves no trigger and no log, and writes go on', async () => {
    await installCapture(store);
    await removeCapture(store);
    assert.deepEqual(await capturedTables(store), []);
    await put('s', '3', 'c');
    await assert.rejects(changesAfter(store, LOG_START, 10));
  });
});

describe('change capture on PostgreSQL: overlapping transactions [postgres]', needs('postgres'), () => {
  test('a change of a transaction still running is never skipped by a reader that saw a later one', async () => {
    const { store, close } = await openTestStore('postgres');
    try {
      await installCapture(store);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let wrote!: () => void;
      const written = new Promise<void>((r) => (wrote = r));
      // A: takes its transaction id first, commits last.
      const a = store.write(async (tx) => {
        await tx.run("INSERT INTO import_map (source, external_id, local_id) VALUES ('a', '1', 'x')");
        wrote();
        await held;
      });
      await written;
      // B: a later transaction id, committed while A runs.
      await store.write((tx) =>
        tx.run("INSERT INTO import_map (source, external_id, local_id) VALUES ('b', '1', 'y')"),
      );
      assert.deepEqual(await changesAfter(store, LOG_START, 100), [], "B waits behind A's running transaction");
      release();
      await a;
      const log = await allChanges(store);
      assert.deepEqual(
        log.map((c) => c.key),
        [
          ['a', '1'],
          ['b', '1'],
        ],
      );
      assert.ok(log[0]!.txid < log[1]!.txid);
    } finally {
      await close();
    }
  });
});
