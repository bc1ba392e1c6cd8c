// Starts a throwaway PostgreSQL server in a temporary folder and stops it.
// Used by the test runner and the benchmarks; needs only the server binaries
// (installed with apt-get when missing and running as root).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.mjs';

const isRoot = process.getuid?.() === 0;

export function findPgBin() {
  const candidates = [];
  if (process.env.AGORA_PG_BIN) candidates.push(process.env.AGORA_PG_BIN);
  if (existsSync('/usr/lib/postgresql')) {
    for (const v of readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))) {
      candidates.push(`/usr/lib/postgresql/${v}/bin`);
    }
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

export function ensurePgBin() {
  let bin = findPgBin();
  if (bin) return bin;
  if (aptInstall('postgresql', 'PostgreSQL server binaries not found')) bin = findPgBin();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql) or set AGORA_PG_BIN',
    );
  }
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** initdb refuses to run as root: run the server as an unprivileged user then. */
function asServerUser(cmd, args) {
  if (!isRoot) return [cmd, args];
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
  return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
}

function run(cmd, args) {
  const [c, a] = asServerUser(cmd, args);
  const r = spawnSync(c, a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Starts a server on a free port of 127.0.0.1. Returns { url, stop() }.
 * `tuning` adds `-c name=value` settings (tests turn fsync off: they kill
 * Agora processes, never the database server).
 */
export async function startPostgres({ tuning = {} } = {}) {
  const bin = ensurePgBin();
  const dir = mkdtempSync(join(tmpdir(), 'agora-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  run(join(bin, 'initdb'), ['-D', data, '-U', 'agora', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  return serve(bin, dir, data, tuning);
}

/**
 * Starts a streaming replica of the server at `primaryUrl` (a hot standby made
 * with `pg_basebackup -R`) on a free port. Returns what `startPostgres` does,
 * and `halt()` / `resume()` to stop and start it again with its data kept.
 */
export async function startReplica(primaryUrl, { tuning = {} } = {}) {
  const bin = ensurePgBin();
  const dir = mkdtempSync(join(tmpdir(), 'agora-pg-replica-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const primary = new URL(primaryUrl);
  run(join(bin, 'pg_basebackup'), [
    ...['-h', primary.hostname, '-p', primary.port, '-U', primary.username || 'agora'],
    ...['-D', data, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
  ]);
  return serve(bin, dir, data, { hot_standby: 'on', ...tuning });
}

async function serve(bin, dir, data, tuning) {
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    max_connections: '300',
    ...tuning,
  };
  const opts = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  const start = () =>
    run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', opts, '-w', '-t', '60', 'start']);
  const halt = () => run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  const url = `postgres://agora@127.0.0.1:${port}/postgres`;
  let stopped = false;
  let running = true;
  return {
    url,
    dir,
    /** The postmaster's process id (its backends are its children). */
    pid: Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    /** Stops the server, keeping its data. */
    halt() {
      if (running) halt();
      running = false;
    },
    /** Starts it again after `halt()`. */
    resume() {
      if (!running) start();
      running = true;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (running) halt();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
