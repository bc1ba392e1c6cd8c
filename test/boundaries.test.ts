import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

test('a business file importing the HTTP layer fails the check; the routes file may', () => {
  const r = depcruise(`${root}test/fixtures/boundary-http`);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /only-routes-know-http: src\/modules\/alpha\/service\.ts → src\/platform\/http\/index\.ts/);
  assert.doesNotMatch(r.stdout, /routes\.ts →/);
});

test('a module importing a store adapter fails the check; the store port passes', () => {
  const r = depcruise(`${root}test/fixtures/boundary-store`);
  assert.notEqual(r.status, 0);
  assert.match(
    r.stdout,
    /modules-use-the-store-port: src\/modules\/alpha\/service\.ts → src\/platform\/store\/sqlite\/store\.ts/,
  );
  assert.doesNotMatch(r.stdout, /→ src\/platform\/store\/index\.ts/);
});

test('the real source tree keeps its boundaries', () => {
  const r = depcruise(root);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

/**
 * Each table belongs to one module; a module's SQL names only its own tables
 * and reaches the others through the owning module's functions (a guard, a
 * value, a call). The outbox tables are the platform's.
 */
const OWNERS: Record<string, readonly string[]> = {
  accounts: ['accounts', 'sessions'],
  communities: ['communities', 'community_moderators', 'subscriptions'],
  posts: ['posts'],
  votes: ['votes'],
  comments: ['comments', 'inbox', 'import_map'],
  moderation: ['bans', 'modlog', 'reports'],
  search: ['search_documents'],
  drops: ['drops', 'orders', 'idempotency_keys', 'payment_events'],
  notifications: [],
};

test("a module's SQL names only the tables it owns", () => {
  const tables = new Set<string>();
  for (const dialect of ['sqlite', 'postgres'])
    for (const file of readdirSync(`${root}migrations/${dialect}`))
      for (const m of readFileSync(`${root}migrations/${dialect}/${file}`, 'utf8').matchAll(
        /CREATE (?:VIRTUAL )?TABLE (?:IF NOT EXISTS )?([a-z_]+)/gi,
      ))
        tables.add((m[1] as string).toLowerCase());
  const modules = readdirSync(`${root}src/modules`);
  assert.deepEqual([...modules].sort(), Object.keys(OWNERS).sort(), 'every module is in OWNERS');
  const owned = Object.values(OWNERS).flat();
  assert.equal(new Set(owned).size, owned.length, 'a table has one owner');
  const foreign: string[] = [];
  for (const module of modules) {
    for (const file of readdirSync(`${root}src/modules/${module}`)) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const text = readFileSync(`${root}src/modules/${module}/${file}`, 'utf8');
      for (const m of text.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z_]+)/g)) {
        const table = m[1] as string;
        if (tables.has(table) && !(OWNERS[module] ?? []).includes(table)) foreign.push(`${module}/${file}: ${table}`);
      }
    }
  }
  assert.deepEqual(foreign, []);
});
