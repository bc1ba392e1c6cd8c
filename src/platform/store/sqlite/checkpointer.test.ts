import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSqliteStore } from './store.js';

// SQLite only: the WAL checkpoint is this adapter's own machinery.
test('committed pages reach the database file in the background while the store stays open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-ckpt-'));
  const path = join(dir, 'agora.db');
  const store = createSqliteStore({ path, sync: 'normal', checkpointMs: 50 });
  try {
    await store.write((tx) => tx.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data TEXT NOT NULL)'));
    const before = statSync(path).size;
    const chunk = 'x'.repeat(64 * 1024);
    await store.write(async (tx) => {
      for (let i = 0; i < 64; i++) await tx.run('INSERT INTO blobs (id, data) VALUES (?, ?)', [i, chunk]);
    });
    // The writer's own automatic checkpoint is off: only the worker copies the WAL back.
    let size = statSync(path).size;
    for (let i = 0; i < 100 && size < before + 4 * 1024 * 1024; i++) {
      await sleep(20);
      size = statSync(path).size;
    }
    assert.ok(
      size >= before + 4 * 1024 * 1024,
      `the database file grew by the 4 MiB written (${before} -> ${size} bytes)`,
    );
    const row = await store.q.get<{ n: number }>('SELECT COUNT(*) AS n FROM blobs');
    assert.equal(row?.n, 64);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
