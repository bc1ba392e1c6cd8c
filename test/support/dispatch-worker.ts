// A separate dispatching process for the outbox test: waits for "go" on
// stdin, dispatches `t.shared` events until none are due, printing each.
import { createInterface } from 'node:readline';
import { systemClock } from '../../src/platform/clock.js';
import { createIdGenerator } from '../../src/platform/ids.js';
import { createLogger } from '../../src/platform/log.js';
import { createOutbox } from '../../src/platform/outbox/index.js';
import { openStore } from '../../src/platform/store/index.js';

declare module '../../src/platform/outbox/index.js' {
  interface OutboxTopics {
    't.shared': { i: number };
  }
}

const url = process.argv[2] ?? '';
const store = openStore({ url, sqliteSync: 'normal', pgPoolSize: 4 });
const outbox = createOutbox({
  store,
  clock: systemClock,
  ids: createIdGenerator(),
  log: createLogger('silent'),
  pollMs: 10,
  baseBackoffMs: 1000,
  maxBackoffMs: 1000,
  maxAttempts: 5,
  batchSize: 8,
});
outbox.subscribe('t.shared', 'print', async (event) => {
  await new Promise((r) => setTimeout(r, 5));
  process.stdout.write(`delivered ${event.id}\n`);
});
await store.ping();
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
while ((await outbox.dispatchOnce()) > 0);
await store.close();
process.exit(0);
