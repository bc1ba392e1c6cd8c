import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const depcruise = (cwd: string) => {
  const r = spawnSync(`${root}node_modules/.bin/depcruise`, ['src', '--config', `${root}.dependency-cruiser.cjs`], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  // eslint-disable-next-line no-control-regex -- strip any colour codes
  return { status: r.status, stdout: r.stdout.replace(/\x1b\[[0-9;]*m/g, ''), stderr: r.stderr };
};

test("a module importing another module's internals fails the boundary check", () => {
  const r = depcruise(`${root}test/fixtures/boundary-violation`);
  assert.notEqual(r.status, 0);
  assert.match(
    r.stdout,
    /no-deep-import-across-modules: src\/modules\/alpha\/index\.ts → src\/modules\/beta\/service\.ts/,
  );
});

test("the same import through the module's index passes", () => {
  const r = depcruise(`${root}test/fixtures/boundary-ok`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the real source tree keeps its boundaries', () => {
  const r = depcruise(root);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
