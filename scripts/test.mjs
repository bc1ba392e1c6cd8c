// `npm test`: starts a throwaway PostgreSQL server, runs every test file of
// the build (dist/**/*.test.js) with node's test runner against SQLite and
// that server, then stops it. Arguments filter test files by substring.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { aptInstall } from './apt.mjs';
import { ensureChromium } from './chromium.mjs';
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

// The browser tests (`src/web/*.test.js`) need Chromium; the proxy test, nginx.
if (files.some((f) => f.startsWith('dist/src/web/'))) ensureChromium();
if (files.some((f) => f.includes('proxy')) && !['/usr/sbin/nginx', '/usr/bin/nginx'].some((p) => existsSync(p)))
  aptInstall('nginx', 'nginx not found (the reverse-proxy test runs deploy/nginx.conf)');

// AGORA_TEST_STORES=sqlite runs without PostgreSQL (the tests that need it say they are skipped).
const { testEnv } = await import('../dist/test/support/env.js');
const withPostgres =
  !process.env.AGORA_TEST_STORES ||
  process.env.AGORA_TEST_STORES.split(',')
    .map((s) => s.trim())
    .includes('postgres');
const pg = withPostgres
  ? await startPostgres({ tuning: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } })
  : { url: '', stop: () => {} };
if (withPostgres) console.error(`[test] PostgreSQL at ${pg.url}`);
const stop = () => pg.stop();
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});

// Tests that hold a latency bound under load (`*-load.test.js`) run after the others, one
// file at a time: with another test file on the other core their bound would measure the
// neighbour, not the server.
// Each group also writes a TAP summary, so that the two groups' counts are added up at the end.
const tapDir = mkdtempSync(join(tmpdir(), 'agora-test-'));
const counts = { pass: 0, fail: 0, skipped: 0 };
const run = (group, concurrency, name, flags = []) =>
  new Promise((resolve) => {
    if (group.length === 0) return resolve(0);
    const tap = join(tapDir, `${name}.tap`);
    const child = spawn(
      process.execPath,
      [
        '--enable-source-maps',
        ...flags,
        '--test',
        `--test-concurrency=${concurrency}`,
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        ...group,
      ],
      { stdio: 'inherit', env: { ...testEnv(), AGORA_TEST_PG_URL: pg.url, NODE_ENV: 'test' } },
    );
    child.on('exit', (c, signal) => {
      const summary = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
      for (const key of Object.keys(counts))
        counts[key] += Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
      resolve(c ?? (signal ? 1 : 0));
    });
  });
const isLoad = (f) => f.endsWith('-load.test.js');
const first = await run(
  files.filter((f) => !isLoad(f)),
  2,
  'main',
);
// --expose-gc: a load test collects its own seeding's garbage before it measures.
const second = await run(files.filter(isLoad), 1, 'load', ['--expose-gc']);
stop();
rmSync(tapDir, { recursive: true, force: true });
console.log(`tests: ${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped`);
process.exit(first || second || (counts.pass === 0 ? 1 : 0));
