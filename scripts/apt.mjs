// What the tests need from Debian (PostgreSQL's server, Chromium) is installed with apt-get
// when it is missing and the runner is root on a machine that has apt-get.
import { execFileSync, spawnSync } from 'node:child_process';

/** Installs `pkg` (saying why) when that is possible here; false when it is not. */
export function aptInstall(pkg, why) {
  if (process.getuid?.() !== 0 || spawnSync('which', ['apt-get']).status !== 0) return false;
  console.error(`[test] ${why}; installing ${pkg} with apt-get`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return true;
}
