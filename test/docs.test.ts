import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONFIG_SPEC } from '../src/config.js';
import { ERROR_STATUS } from '../src/platform/errors.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(root + path, 'utf8');

test('every error code is documented in docs/errors.md with its status', () => {
  const doc = read('docs/errors.md');
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    assert.match(
      doc,
      new RegExp(`\\| \`${code}\` \\| ${status} \\|`),
      `${code} (${status}) is missing from docs/errors.md`,
    );
  }
  const documented = [...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(
    documented.filter((c) => !(c! in ERROR_STATUS)),
    [],
    'docs/errors.md lists codes the code does not have',
  );
});

test('the README configuration table lists every variable with its default', () => {
  const readme = read('README.md');
  for (const spec of Object.values(CONFIG_SPEC)) {
    const shown = spec.default ? `\`${spec.default}\`` : '(empty)';
    assert.ok(readme.includes(`| \`${spec.env}\` | ${shown} |`), `README.md lacks ${spec.env} with default ${shown}`);
  }
});

test('the README shows the start and test commands', () => {
  const readme = read('README.md');
  assert.ok(readme.includes('npm install && npm start'));
  assert.ok(readme.includes('npm test'));
});
