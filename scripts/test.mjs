// `npm test`: starts a throwaway PostgreSQL server, runs every test file of
// the build (dist/**/*.test.js) with node's test runner against SQLite and
// that server, then stops it. Arguments filter test files by substring.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startPostgres } from './pg-server.mjs';

function testFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(path));
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = testFiles('dist')
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}

const pg = await startPostgres({ tuning: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
console.error(`[test] PostgreSQL at ${pg.url}`);
const stop = () => pg.stop();
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});

const child = spawn(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, AGORA_TEST_PG_URL: pg.url, NODE_ENV: 'test' } },
);
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
stop();
process.exit(code);
