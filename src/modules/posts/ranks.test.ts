import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controversy, hot, wilson } from './ranks.js';

test("hot is Reddit's formula rounded to 7 places", () => {
  const t = Date.UTC(2026, 0, 1);
  const base = (t / 1000 - 1134028003) / 45000;
  assert.equal(hot(1, 0, t), Math.round(base * 1e7) / 1e7);
  assert.equal(hot(101, 1, t), Math.round((2 + base) * 1e7) / 1e7);
  assert.equal(hot(0, 10, t), Math.round((-1 + base) * 1e7) / 1e7);
  // 45,000 s (12.5 hours) is worth exactly a factor of 10 in score.
  assert.ok(Math.abs(hot(5, 0, t + 45_000_000) - hot(50, 0, t)) < 1e-6);
  assert.ok(hot(6, 0, t + 45_000_000) > hot(50, 0, t));
});

test('controversy is (up+down)^(min/max) when both sides voted', () => {
  assert.equal(controversy(10, 0), 0);
  assert.equal(controversy(0, 10), 0);
  assert.equal(controversy(10, 10), 20);
  assert.equal(controversy(10, 5), 15 ** 0.5);
  assert.ok(controversy(50, 50) > controversy(90, 10));
});

test('wilson is 0 without votes and favours many good votes over few', () => {
  assert.equal(wilson(0, 0), 0);
  assert.ok(wilson(100, 1) > wilson(3, 0));
  assert.ok(Math.abs(wilson(1, 0) - 0.3777) < 0.001);
});
