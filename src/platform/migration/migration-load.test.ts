// A "-load" test: it runs after the others, alone. PostgreSQL's snapshot horizon is the whole server's, so other test files'
// transactions on the shared test server would hold its applier back for as long as they run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { needs, openTestStore, type StoreKind } from '../../../test/support/stores.js';
import type { Store } from '../store/index.js';
import { applyNext, ConflictError, ensureState, readState } from './apply.js';
import { installCapture, LOG_START, type LogPosition } from './capture.js';
import { chunksOf, plainTable, type MigratedTable } from './copy.js';
import { liveTables } from './schema.js';
import { verifyTable } from './verify.js';

/** The tables both stores lay out alike (search's documents differ by dialect and are rebuilt, not copied). */
async function sharedTables(source: Store, target: Store): Promise<MigratedTable[]> {
  const theirs = new Map((await liveTables(target)).map((t) => [t.name, t.columns.slice().sort().join()]));
  return (await liveTables(source))
    .filter((t) => theirs.get(t.name) === t.columns.slice().sort().join())
    .map(plainTable);
}

async function copyTable(source: Store, target: Store, table: MigratedTable, chunk: number): Promise<void> {
  for await (const { rows } of chunksOf(source, table, chunk))
    await target.write((tx) => table.upsert(tx, target.dialect, rows));
}

/** Applies the log at least up to where it ended when called (a writer may go on meanwhile). */
async function drain(source: Store, target: Store, tables: MigratedTable[], from: LogPosition): Promise<LogPosition> {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const head = (await source.q.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM migration_changes'))?.seq ?? 0;
  const behind = async (p: LogPosition) =>
    (
      await source.q.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM migration_changes WHERE seq <= ? AND (txid, seq) > (?, ?)',
        [head, p.txid, p.seq],
      )
    )?.n ?? 0;
  let position = from;
  for (;;) {
    const step = await applyNext(source, target, byName, position, 500);
    position = step.position;
    // Done once nothing up to the head is left, though the writer goes on: chasing its newest
    // changes too, a step that always finds some never ends (seen at 100 % CPU).
    if ((await behind(position)) === 0) return position;
    if (step.applied === 0) await new Promise((r) => setTimeout(r, 5)); // a transaction below the head is still running
  }
}

const account = (id: string, key: string) => [id, key, key, null, 'x', 0, 0, 1, 0, 0, 0];
const INSERT_ACCOUNT = `INSERT INTO accounts (id, username, username_key, email, password_hash, post_karma, comment_karma,
  created_at, is_admin, failed_logins, login_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

for (const [from, to] of [
  ['sqlite', 'postgres'],
  ['postgres', 'postgres'],
  ['postgres', 'sqlite'],
] as [StoreKind, StoreKind][]) {
  describe(`copy, apply and verify [${from} → ${to}]`, needs('postgres'), () => {
    test('a copy made while a writer runs is verified to 0 mismatches; planted differences are named by key', async () => {
      const source = await openTestStore(from);
      const target = await openTestStore(to);
      try {
        await source.store.write(async (tx) => {
          for (let i = 0; i < 3000; i++)
            await tx.run('INSERT INTO import_map (source, external_id, local_id) VALUES (?, ?, ?)', [
              'seed',
              String(i).padStart(5, '0'),
              `l${i}`,
            ]);
          await tx.run(INSERT_ACCOUNT, account('a1', 'alice'));
        });
        await installCapture(source.store);
        await ensureState(target.store);
        const tables = await sharedTables(source.store, target.store);
        assert.ok(tables.some((t) => t.name === 'import_map') && tables.some((t) => t.name === 'accounts'));

        // A writer inserts, changes and deletes rows through the whole copy and apply.
        let running = true;
        let writes = 0;
        const writer = (async () => {
          for (let i = 0; running; i++) {
            await source.store.write(async (tx) => {
              await tx.run('INSERT INTO import_map (source, external_id, local_id) VALUES (?, ?, ?)', [
                'live',
                `${i}`,
                'n',
              ]);
              await tx.run('UPDATE import_map SET local_id = ? WHERE source = ? AND external_id = ?', [
                `changed ${i}`,
                'seed',
                String((i * 7) % 3000).padStart(5, '0'),
              ]);
              if (i % 3 === 0)
                await tx.run('DELETE FROM import_map WHERE source = ? AND external_id = ?', [
                  'seed',
                  String((i * 13) % 3000).padStart(5, '0'),
                ]);
            });
            writes++;
            await new Promise((r) => setTimeout(r, 1)); // a busy site, not a tight loop
          }
        })();
        for (const table of tables) await copyTable(source.store, target.store, table, 700);
        let position = await drain(source.store, target.store, tables, LOG_START);
        // Until the writer has written enough; a writer that failed ends the wait (its error is the test's).
        let failed: unknown = null;
        const done = writer.catch((error: unknown) => (failed = error ?? new Error('the writer failed')));
        while (writes < 50 && !failed) {
          position = await drain(source.store, target.store, tables, position);
          // A drain that finds nothing may not wait for any I/O (SQLite answers at once): without a timer turn
          // here the writer's own timer never fires and this loop spins forever (seen once at 100 % CPU).
          await new Promise((r) => setTimeout(r, 1));
        }
        running = false;
        await done;
        if (failed) throw failed;
        position = await drain(source.store, target.store, tables, position);
        assert.deepEqual(await readState(target.store, 'applied'), position, 'the applied position is in the target');

        for (const table of tables) {
          const verdict = await verifyTable(source.store, target.store, table, 500);
          assert.deepEqual([verdict.mismatches, verdict.keys], [0, []], table.name);
          assert.equal(verdict.sourceRows, verdict.targetRows, table.name);
        }

        // Planted: a changed cell, a missing row, an extra row.
        await target.store.write(async (tx) => {
          await tx.run("UPDATE import_map SET local_id = 'wrong' WHERE source = 'seed' AND external_id = '00001'");
          await tx.run("DELETE FROM import_map WHERE source = 'seed' AND external_id = '00002'");
          await tx.run("INSERT INTO import_map (source, external_id, local_id) VALUES ('extra', '1', 'x')");
        });
        const shape = tables.find((t) => t.name === 'import_map') as MigratedTable;
        const verdict = await verifyTable(source.store, target.store, shape, 500);
        assert.equal(verdict.mismatches, 3);
        assert.deepEqual(verdict.keys.map((k) => k.join('/')).sort(), ['extra/1', 'seed/00001', 'seed/00002']);
      } finally {
        await source.close();
        await target.close();
      }
    });

    test('a row that conflicts on another unique key stops the apply, named; nothing is deleted to make room', async () => {
      const source = await openTestStore(from);
      const target = await openTestStore(to);
      try {
        await installCapture(source.store);
        await ensureState(target.store);
        const tables = await sharedTables(source.store, target.store);
        await target.store.write((tx) => tx.run(INSERT_ACCOUNT, account('t1', 'carol')));
        await source.store.write((tx) => tx.run(INSERT_ACCOUNT, account('s1', 'carol')));
        await assert.rejects(drain(source.store, target.store, tables, LOG_START), (error: unknown) => {
          assert.ok(error instanceof ConflictError, String(error));
          assert.deepEqual([error.table, error.key], ['accounts', ['s1']]);
          return true;
        });
        const kept = await target.store.q.all<{ id: string }>("SELECT id FROM accounts WHERE username_key = 'carol'");
        assert.deepEqual(kept, [{ id: 't1' }], "the target's row stays");
        assert.equal(await readState(target.store, 'applied'), null, 'the position did not move');
      } finally {
        await source.close();
        await target.close();
      }
    });
  });
}
