import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterWrites, commitThisTurn } from './turn.js';

test('reads waiting in a turn resume after that turn’s commits, even ones queued after them', async () => {
  const order: string[] = [];
  const read = new Promise<void>((resolve) =>
    afterWrites(() => {
      order.push('read');
      resolve();
    }),
  );
  commitThisTurn(async () => {
    order.push('commit starts');
    await new Promise((resolve) => setTimeout(resolve, 5)); // a commit that takes a while
    order.push('commit done');
  });
  await read;
  assert.deepEqual(order, ['commit starts', 'commit done', 'read']);
});

test('a read with no write in its turn resumes in that turn’s check phase', async () => {
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    afterWrites(() => {
      order.push('read');
      resolve();
    });
    setImmediate(() => order.push('immediate queued after'));
    order.push('sync');
  });
  assert.deepEqual(order, ['sync', 'read']);
});

test('a failed commit still lets the turn’s reads go on', async () => {
  const read = new Promise<string>((resolve) => afterWrites(() => resolve('read')));
  commitThisTurn(() => Promise.reject(new Error('disk full')));
  assert.equal(await read, 'read');
});
