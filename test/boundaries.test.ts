import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const depcruise = (cwd: string) =>
  spawnSync(`${root}node_modules/.bin/depcruise`, ['src', '--config', `${root}.dependency-cruiser.cjs`], { cwd, encoding: 'utf8' });

test('a module importing another module\'s internals fails the boundary check', () => {
  const r = depcruise(`${root}test/fixtures/boundary-violation`);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /no-deep-import-across-modules: src\/modules\/alpha\/index\.ts → src\/modules\/beta\/service\.ts/);
});

test('the same import through the module\'s index passes', () => {
  const r = depcruise(`${root}test/fixtures/boundary-ok`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the real source tree keeps its boundaries', () => {
  const r = depcruise(root);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
