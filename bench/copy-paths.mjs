// Ways to write a migration's copied rows into PostgreSQL, timed on a server started for the
// run: each slice as JSON through json_populate_recordset, upserted ON CONFLICT by the key (the
// copy's way for a slice that COPY refuses), the same without the conflict clause, COPY alone
// (the copy's way), and COPY into an unlogged staging table followed by one upsert from it.
// Rows shaped like comments; rounds alternate the ways, each on a fresh table; medians. What the backfill's PostgreSQL CPU is
// spent on, and what a change to the copy could save (docs/performance.md).
//   node bench/copy-paths.mjs [--rows 200000] [--slice 2000] [--rounds 3]
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { benchStore, parseArgs, ROOT } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { rows: 200_000, slice: 2000, rounds: 3 });
const COLUMNS = ['id', 'post_id', 'parent_id', 'author_id', 'body', 'score', 'created_at', 'edited_at'];
const cols = COLUMNS.join(', ');
const update = COLUMNS.slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');
const key = (i) => `01M8${String(i).padStart(22, '0')}`;
const rows = Array.from({ length: opts.rows }, (_, i) => ({
  id: key(i),
  post_id: '01M8FA97X872TVDT9GRFWQC9FE',
  parent_id: i % 3 ? key(i - 1) : null,
  author_id: '01M8FA97X872TVDT9GRFWQC9FA',
  body: `Roasted veggies is where it is at! So much more flavour and texture to boiling. ${i}`,
  score: i % 50,
  created_at: 1796059581031 + i,
  edited_at: null,
}));
// COPY's text format, in a file the server reads (the slices' JSON is made before the clock starts too).
const dir = join(ROOT, '.bench', `copy-paths-${process.pid}`);
mkdirSync(dir, { recursive: true });
chmodSync(dir, 0o755);
const file = join(dir, 'rows.tsv');
const field = (v) =>
  v === null ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
writeFileSync(file, rows.map((r) => COLUMNS.map((c) => field(r[c])).join('\t')).join('\n') + '\n');
chmodSync(file, 0o644);
const slices = [];
for (let i = 0; i < rows.length; i += opts.slice) slices.push(JSON.stringify(rows.slice(i, i + opts.slice)));

const store = await benchStore('postgres');
const client = new pg.Client(store.url);
await client.connect();
const table = async (name, unlogged = false) =>
  client.query(
    `DROP TABLE IF EXISTS ${name}; CREATE ${unlogged ? 'UNLOGGED ' : ''}TABLE ${name} (id text PRIMARY KEY, post_id text NOT NULL, parent_id text, author_id text, body text, score integer NOT NULL, created_at bigint NOT NULL, edited_at bigint)`,
  );
const fromJson = (conflict) => async () => {
  await table('t');
  return async () => {
    for (const json of slices)
      await client.query(
        `INSERT INTO t (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::t, $1::json) ${conflict}`,
        [json],
      );
  };
};
const ways = {
  'json slices, ON CONFLICT DO UPDATE': fromJson(`ON CONFLICT (id) DO UPDATE SET ${update}`),
  'json slices, no conflict clause': fromJson(''),
  'COPY alone': async () => {
    await table('t');
    return () => client.query(`COPY t (${cols}) FROM '${file}'`);
  },
  'COPY into an unlogged staging table, then one upsert': async () => {
    await table('t');
    await table('staging', true);
    return async () => {
      await client.query(`COPY staging (${cols}) FROM '${file}'`);
      await client.query(
        `INSERT INTO t (${cols}) SELECT ${cols} FROM staging ON CONFLICT (id) DO UPDATE SET ${update}`,
      );
    };
  },
};
const times = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (let round = 0; round < opts.rounds; round++)
  for (const [name, prepare] of Object.entries(ways)) {
    const run = await prepare();
    const started = performance.now();
    await run();
    times[name].push(performance.now() - started);
  }
await client.end();
await store.stop();
rmSync(dir, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(Object.values(times)[0]);
for (const [name, ms] of Object.entries(times)) {
  const m = median(ms);
  console.log(
    `${name}: ${opts.rows.toLocaleString('en')} rows in ${m.toFixed(0)} ms, ${((m * 1000) / opts.rows).toFixed(1)} µs a row, ${(m / base).toFixed(2)} of the JSON upsert (medians of ${opts.rounds})`,
  );
}
