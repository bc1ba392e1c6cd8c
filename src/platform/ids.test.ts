import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdGenerator, idTime } from './ids.js';

test('ids are 26-char strings, strictly increasing within a process, and carry their time', () => {
  let t = Date.UTC(2026, 10, 22);
  const ids = createIdGenerator(() => t);
  const made: string[] = [];
  for (let i = 0; i < 5000; i++) {
    if (i % 1000 === 0) t += 1;
    made.push(ids.next());
  }
  for (let i = 1; i < made.length; i++)
    assert.ok((made[i - 1] as string) < (made[i] as string), `not increasing at ${i}`);
  assert.equal(new Set(made).size, made.length);
  for (const id of made) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(idTime(made[made.length - 1] as string), t);
});

test('ids from two generators at the same millisecond do not collide', () => {
  const a = createIdGenerator(() => 1);
  const b = createIdGenerator(() => 1);
  const all = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    all.add(a.next());
    all.add(b.next());
  }
  assert.equal(all.size, 2000);
});

test('a clock that steps back never makes a smaller id', () => {
  let t = 1000;
  const ids = createIdGenerator(() => t);
  const first = ids.next();
  t = 500;
  assert.ok(ids.next() > first);
});
