import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../src/paths.js';

/** Where the browser tests write their screenshots (README: "The web app"). */
export const SCREENSHOTS = join(projectRoot(), 'test-results', 'screenshots');

/** Debian's Chromium (playwright-core never downloads one), or the one AGORA_CHROMIUM names (`scripts/chromium.mjs` installs it). */
export function chromiumPath(): string {
  const candidates = [process.env.AGORA_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    (p): p is string => Boolean(p),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      'the browser tests need Chromium: `apt-get install -y chromium` (Debian), or set AGORA_CHROMIUM to its binary',
    );
  return found;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    // The closed network refuses Chromium's own background connections.
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

const axeSource = (() => {
  const require = createRequire(import.meta.url);
  return require('node:fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') as string;
})();

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core on the page as it is now: the serious and critical violations,
 * described (empty when none). A page whose scripts are off is checked as a
 * copy of its DOM in a page of `browser` with them on (axe is a script).
 */
export async function accessibilityProblems(page: Page, browser?: Browser): Promise<string[]> {
  if (browser) {
    const html = (await page.content()).replace('<head>', `<head><base href="${page.url()}">`);
    const copy = await browser.newPage();
    try {
      await copy.route('**/*.js', (route) => route.abort()); // the DOM as the server sent it
      await copy.setContent(html, { waitUntil: 'load' });
      return await accessibilityProblems(copy);
    } finally {
      await copy.close();
    }
  }
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** A screenshot of the page's top 2,400 pixels at desktop and at phone width. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.screenshot({
    path: join(SCREENSHOTS, `${name}-desktop.png`),
    fullPage: true,
    clip: { x: 0, y: 0, width: size.width, height: 2400 },
  });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({
    path: join(SCREENSHOTS, `${name}-mobile.png`),
    fullPage: true,
    clip: { x: 0, y: 0, width: 390, height: 2400 },
  });
  await page.setViewportSize(size);
}
