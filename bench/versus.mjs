// Runs one of the benchmarks against an earlier commit and against this tree, in turns,
// and compares the medians: the figure a change must keep ("ratio to the previous code
// in the same run"). The earlier commit is checked out into .bench/ref-<commit> (a git
// worktree sharing this tree's node_modules) and built there; each side runs its own
// bench script, so each seeds and measures as it did at its commit.
//   node bench/versus.mjs --ref <commit> [--rounds 3] [--store sqlite|postgres] --bench comments [--args "--only read,size --duration 5"]
// Prints, per figure line of the bench (`<name> <store>: <n> req/s, p50 <ms> ms, p99 <ms> ms`),
// the median of each side, and this tree / the reference.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, parseArgs } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { ref: '', rounds: 3, store: 'sqlite', bench: 'comments', args: '' });
if (!opts.ref) {
  console.error(
    'usage: node bench/versus.mjs --ref <commit> [--rounds 3] [--store sqlite|postgres] --bench comments|community|drops [--args "..."]',
  );
  process.exit(2);
}
const commit = execFileSync('git', ['rev-parse', '--short', opts.ref], { cwd: ROOT, encoding: 'utf8' }).trim();
const refDir = join(ROOT, '.bench', `ref-${commit}`);
if (!existsSync(refDir)) {
  execFileSync('git', ['worktree', 'add', '--detach', refDir, commit], { cwd: ROOT, stdio: 'inherit' });
  symlinkSync(join(ROOT, 'node_modules'), join(refDir, 'node_modules'));
}
for (const dir of [refDir, ROOT])
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: dir,
    stdio: 'inherit',
  });

const FIGURE = /^(.+?) (sqlite|postgres): (\d+) req\/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms/;
function run(dir) {
  const args = [
    join(dir, 'bench', `${opts.bench}.mjs`),
    '--store',
    opts.store,
    ...opts.args.split(' ').filter(Boolean),
  ];
  const res = spawnSync(process.execPath, args, {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: process.env,
  });
  if (res.status !== 0) throw new Error(`${dir}: bench/${opts.bench}.mjs failed:\n${res.stdout}\n${res.stderr}`);
  const figures = new Map();
  for (const line of res.stdout.split('\n')) {
    const m = FIGURE.exec(line);
    if (m) figures.set(m[1], { rps: Number(m[3]), p50: Number(m[4]), p99: Number(m[5]) });
  }
  return figures;
}

const sides = { ref: [], now: [] };
for (let round = 0; round < opts.rounds; round++) {
  // Alternate which side goes first, so a drift of the machine favours neither.
  const order = round % 2 === 0 ? ['ref', 'now'] : ['now', 'ref'];
  for (const side of order) {
    const figures = run(side === 'ref' ? refDir : ROOT);
    sides[side].push(figures);
    console.log(
      `[versus] round ${round + 1} ${side === 'ref' ? commit : 'this tree'}: ${[...figures].map(([k, f]) => `${k} ${f.rps} req/s`).join(', ')}`,
    );
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const names = [...new Set(sides.now.flatMap((f) => [...f.keys()]))].filter((name) =>
  sides.ref.every((f) => f.has(name)),
);
for (const name of names) {
  const of = (side, key) => median(sides[side].map((f) => f.get(name)?.[key] ?? NaN));
  const [refRps, nowRps] = [of('ref', 'rps'), of('now', 'rps')];
  console.log(
    `${name} ${opts.store}: this tree ${nowRps} req/s (p50 ${of('now', 'p50')} ms, p99 ${of('now', 'p99')} ms), ` +
      `${commit} ${refRps} req/s (p50 ${of('ref', 'p50')} ms, p99 ${of('ref', 'p99')} ms): ratio ${(nowRps / refRps).toFixed(3)}, medians of ${opts.rounds} alternating rounds`,
  );
}
