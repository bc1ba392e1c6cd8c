import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStores, freshDatabase } from './support/stores.js';
import { startServerProcess } from './support/server-process.js';

/**
 * Accounts are created by many concurrent clients while the server is killed
 * with SIGKILL. After a restart, every account that was answered 201 exists
 * and can sign in (SQLite with the default durability; PostgreSQL too).
 */
describeStores('crash safety', (kind) => {
  const syncModes = kind === 'sqlite' ? ['normal', 'full'] : ['normal'];
  for (const sync of syncModes)
    test(`every acknowledged sign-up survives SIGKILL${kind === 'sqlite' ? ` (AGORA_SQLITE_SYNC=${sync})` : ''}`, async () => {
      const db = await freshDatabase(kind);
      const env = { AGORA_DATABASE_URL: db.url, AGORA_SQLITE_SYNC: sync };
      const first = await startServerProcess(env);
      const acknowledged: string[] = [];
      let killed = false;
      const worker = async (w: number) => {
        for (let i = 0; !killed; i++) {
          const username = `crash_${w}_${i}`;
          try {
            const res = await fetch(`${first.base}/api/v1/accounts`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ username, password: 'password123' }),
            });
            if (res.status === 201) acknowledged.push(username);
            else assert.fail(`unexpected ${res.status}: ${await res.text()}`);
          } catch (error) {
            if (!killed) throw error;
          }
        }
      };
      const workers = Array.from({ length: 16 }, (_, w) => worker(w));
      while (acknowledged.length < 80) await new Promise((r) => setTimeout(r, 5));
      killed = true;
      first.child.kill('SIGKILL');
      await first.exited;
      await Promise.all(workers);
      const count = acknowledged.length;

      const second = await startServerProcess(env);
      try {
        const failures: string[] = [];
        for (let i = 0; i < acknowledged.length; i += 8) {
          await Promise.all(
            acknowledged.slice(i, i + 8).map(async (username) => {
              const res = await fetch(`${second.base}/api/v1/sessions`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ username, password: 'password123' }),
              });
              if (res.status !== 201) failures.push(`${username}: ${res.status}`);
            }),
          );
        }
        assert.deepEqual(failures, [], `${failures.length} of ${count} acknowledged accounts lost`);
        assert.ok(count >= 80);
      } finally {
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0);
        await db.drop();
      }
    });
});
