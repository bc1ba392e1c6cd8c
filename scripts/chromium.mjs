// The browser tests drive Debian's Chromium through playwright-core (which never downloads a
// browser). Like PostgreSQL, it is installed when missing and the runner is root on Debian;
// otherwise the runner says what to install.
import { existsSync } from 'node:fs';
import { aptInstall } from './apt.mjs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium() {
  return [process.env.AGORA_CHROMIUM, ...CANDIDATES].find((p) => p && existsSync(p));
}

/** The Chromium binary, installed with apt-get when missing and possible; undefined (and a hint) otherwise. */
export function ensureChromium() {
  let found = findChromium();
  if (found) return found;
  if (aptInstall('chromium', 'Chromium not found (the browser tests need it)')) found = findChromium();
  if (!found)
    console.error(
      '[test] Chromium not found: the browser tests will fail. Install it (Debian: apt-get install chromium) or set AGORA_CHROMIUM',
    );
  return found;
}
