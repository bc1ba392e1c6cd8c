// Shared pieces of the benchmarks: a throwaway store, the real server as a
// child process, and wrk (installed with apt-get when missing, as root).
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres } from '../scripts/pg-server.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');

export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)$/.exec(argv[i]);
    if (!m) continue;
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    out[key] = typeof defaults[key] === 'number' ? Number(argv[++i]) : argv[++i];
  }
  return out;
}

/** A fresh database of the kind asked for. PostgreSQL runs with its default (durable) settings. */
export async function benchStore(kind) {
  if (kind === 'sqlite') {
    const dir = join(ROOT, '.bench', `sqlite-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return { url: `sqlite:${join(dir, 'agora.db')}`, stop: () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (kind === 'postgres') {
    const pg = await startPostgres({ tuning: { shared_buffers: '512MB' } });
    return { url: pg.url, stop: () => pg.stop() };
  }
  throw new Error(`--store must be sqlite or postgres, not ${kind}`);
}

/** A fresh database `name` on the PostgreSQL server at `serverUrl` (dropped first if there); its URL. */
export async function createDatabase(serverUrl, name) {
  const client = new pg.Client(serverUrl);
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Makes an account a site admin, through the Store port (the bench seeds its accounts the same way). */
export async function makeAdmin(storeUrl, username) {
  const { openStore } = await import(join(ROOT, 'dist/src/platform/store/index.js'));
  const store = openStore({ url: storeUrl, pgPoolSize: 1 });
  try {
    await store.write((tx) => tx.run('UPDATE accounts SET is_admin = 1 WHERE username = ?', [username]));
  } finally {
    await store.close();
  }
}

/** The token the bench's servers require for /metrics. */
export const METRICS_TOKEN = 'bench-metrics-token-0123456789';

/** Starts `agora serve` on a free port with rate limits off; resolves to its base URL. */
export async function startServer(env) {
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // BENCH_NODE_ARGS='--trace-gc …': more flags for the server's node.
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...profile, ...extra, CLI, 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      AGORA_LOG_LEVEL: 'info',
      AGORA_RATE_LIMIT: 'off',
      AGORA_METRICS_TOKEN: METRICS_TOKEN,
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      // BENCH_SERVER_OUT=<file>: the server's standard output is appended there (what `--trace-gc` prints, say).
      if (process.env.BENCH_SERVER_OUT) appendFileSync(process.env.BENCH_SERVER_OUT, `${line}\n`);
      const url = /"url":"(http:[^"]+)"/.exec(line)?.[1];
      if (url) resolve(url);
      // The server's warnings and errors are shown: a 5xx under load is a bug to see.
      if (/"level":(40|50|60)/.test(line)) console.error(`[server] ${line.slice(0, 2000)}`);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    base,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function api(base, method, path, body, token) {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A Debian package's command: installed with apt-get when missing and running as root. */
export function ensureTool(name) {
  if (spawnSync('which', [name]).status === 0) return;
  if (process.getuid?.() === 0) {
    console.error(`[bench] installing ${name} with apt-get`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', name], { stdio: 'inherit' });
    return;
  }
  throw new Error(`${name} is not installed: apt-get install -y ${name}`);
}

export const ensureWrk = () => ensureTool('wrk');

const TICKS = 100; // Linux's USER_HZ: /proc counts CPU time in hundredths of a second
/** /proc/<pid>/stat's fields after the command name (field 3 onwards), or null when the process is gone. */
function statOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
/**
 * CPU seconds used so far (Linux): by a process (user + system), with
 * `reaped` also by the children it has waited for (a spawnSync'd tool), with
 * `tree` also by its live children (a PostgreSQL server's backends: the ones
 * that ended are in the postmaster's reaped share); with `thread`, by that
 * thread of it alone (its main thread's id is its own).
 */
export function cpuSeconds(pid, { reaped = false, tree = false, thread = null } = {}) {
  if (thread !== null) {
    const f = statOf(`${pid}/task/${thread}`);
    return f ? (Number(f[11]) + Number(f[12])) / TICKS : 0;
  }
  const own = (f) => (f ? Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0) : 0);
  let ticks = own(statOf(pid));
  if (tree)
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const f = statOf(name);
      if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
    }
  return ticks / TICKS;
}

function wrkArgs(url, { connections = 50, threads = 1, duration = 10, headers = {}, script } = {}) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${duration}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (script) args.push('-s', script);
  args.push(url);
  return args;
}

function wrkFigures(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const pct = (p) => /(\d+(?:\.\d+)?)(us|ms|s)\b/.exec(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const ms = (m) => (m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors:.*/.exec(out)?.[0] ?? '';
  return { out, rps, p50: ms(pct(50)), p99: ms(pct(99)), non2xx, errors };
}

/** Runs wrk and returns its own output plus the parsed figures. */
export function wrk(url, options) {
  return wrkFigures(execFileSync('wrk', wrkArgs(url, options), { encoding: 'utf8' }));
}

/** wrk without blocking (to run two loads at once). */
export function wrkAsync(url, options) {
  return new Promise((resolve, reject) => {
    execFile('wrk', wrkArgs(url, options), { encoding: 'utf8' }, (error, stdout) =>
      error ? reject(error) : resolve(wrkFigures(stdout)),
    );
  });
}

/**
 * The load generator shares the two cores, so two loads compared in
 * sequence can differ by the machine's mood: run them in turn, `rounds`
 * times, and keep each one's median round (by throughput). Returns, per
 * load, `{ median, rounds }`.
 */
export function alternate(rounds, loads) {
  const runs = loads.map(() => []);
  for (let round = 0; round < rounds; round++) loads.forEach((load, i) => runs[i].push(load()));
  return runs.map((list) => ({
    median: [...list].sort((a, b) => a.rps - b.rps)[Math.floor(list.length / 2)],
    rounds: list,
  }));
}

/** A wrk Lua script that sends `requests` (method, path, headers, body), picked at random per request. */
export function luaScript(name, requests) {
  const dir = join(ROOT, '.bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${process.pid}.lua`);
  process.on('exit', () => rmSync(file, { force: true })); // ~3 MB each: not left behind
  const str = (s) => JSON.stringify(s); // JSON string escapes are valid Lua for ASCII
  const rows = requests.map((r) => `{${str(r.method)}, ${str(r.path)}, ${str(r.token ?? '')}, ${str(r.body ?? '')}}`);
  writeFileSync(
    file,
    `local reqs = {\n${rows.join(',\n')}\n}
math.randomseed(42)
request = function()
  local r = reqs[math.random(#reqs)]
  local headers = {}
  if r[3] ~= "" then headers["Authorization"] = "Bearer " .. r[3] end
  if r[4] ~= "" then headers["Content-Type"] = "application/json" end
  return wrk.format(r[1], r[2], headers, r[4] ~= "" and r[4] or nil)
end
`,
  );
  return file;
}

/**
 * Requests at a fixed overall rate (autocannon's `overallRate` shared by
 * `connections`), with the latency percentiles corrected for coordinated
 * omission at the real interval between one connection's requests: a
 * response slower than that interval also stands for the requests the
 * connection did not send meanwhile (HdrHistogram's
 * `recordValueWithExpectedInterval`). autocannon's own correction takes
 * `ceil(1 / rate)` — 1 ms at any rate of 1 request/s or more — as that
 * interval, so each slow response of n ms also counts n − 1 made-up ones and
 * a single stall moves its p99. Returns autocannon's instance (`stop()`,
 * awaitable) with `latency()`: `{ p50, p99, max }` in ms of the 2xx answers
 * so far.
 */
export function atRate(autocannon, options) {
  const interval = 1000 / (options.overallRate / options.connections);
  const samples = [];
  const instance = autocannon({ ...options, ignoreCoordinatedOmission: true });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status < 200 || status > 299) return;
    samples.push(ms);
    for (let missed = ms - interval; missed >= interval; missed -= interval) samples.push(missed);
  });
  instance.latency = () => {
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q) => Number((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0).toFixed(2));
    return { p50: at(0.5), p99: at(0.99), max: Number((sorted[sorted.length - 1] ?? 0).toFixed(2)) };
  };
  return instance;
}

/**
 * The drop-opening mix as a wrk Lua script: 94 % GET /drops/:id, 6 % POST /drops/:id/orders by
 * `buyers` (their tokens), each order with a fresh idempotency key. Removed when the process exits.
 */
export function dropMixScript(name, dropId, buyers) {
  const dir = join(ROOT, '.bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${process.pid}.lua`);
  process.on('exit', () => rmSync(file, { force: true }));
  writeFileSync(
    file,
    `local tokens = {${buyers.map((t) => JSON.stringify(t)).join(', ')}}
local n = 0
local salt = tostring(math.random(1000000000))
request = function()
  n = n + 1
  if n % 50 < 3 then
    return wrk.format("POST", "/api/v1/drops/${dropId}/orders", {
      ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = "${name}-" .. salt .. "-" .. n,
    }, '{"quantity":1}')
  end
  return wrk.format("GET", "/api/v1/drops/${dropId}")
end
`,
  );
  return file;
}
