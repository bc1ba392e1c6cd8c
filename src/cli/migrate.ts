/**
 * `agora migrate <command>`: the live migration's admin routes from a
 * terminal (the serving process runs the migration; this only asks it).
 * AGORA_URL (default http://localhost:3000) and AGORA_TOKEN (a site admin's
 * bearer token) say where and as whom.
 */
export const MIGRATE_USAGE = `agora migrate start --to <postgres://…|sqlite:file>
                                   start moving the site (capture, then copy); follows the copy's progress on a terminal
  agora migrate status [--watch]   phase, rows copied, rows/s, lag, ETA (--watch: a live line until Ctrl-C)
  agora migrate verify             compare every table on both stores (counts, checksums, differing keys)
  agora migrate cutover            make the target the primary (a write pause under a second)
  agora migrate rollback           make the source the primary again, holding every write made meanwhile
  agora migrate finish             retire the source
  agora migrate abort              stop a migration before its cutover (capture removed)
  (AGORA_URL: the server, default http://localhost:3000; AGORA_TOKEN: a site admin's token)`;

interface Status {
  phase: string;
  source: string | null;
  target: string | null;
  copiedRows: number;
  totalRows: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
  lag: { events: number; ms: number };
  verify: { mismatches: number } | null;
  cutover: { pauseMs: number } | null;
  error: string | null;
}

type Fetch = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

function client(env: NodeJS.ProcessEnv): Fetch {
  const base = (env.AGORA_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  const token = env.AGORA_TOKEN ?? '';
  return async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: shown as text
    }
    return { status: response.status, body: parsed };
  };
}

/** One line of progress: what a terminal shows and rewrites. */
export function progressLine(s: Status): string {
  const percent = s.totalRows > 0 ? Math.min(100, (100 * s.copiedRows) / s.totalRows).toFixed(1) : '100.0';
  const eta = s.etaSeconds === null ? '' : `, ETA ${formatSeconds(s.etaSeconds)}`;
  const lag = `lag ${s.lag.events} changes / ${(s.lag.ms / 1000).toFixed(1)} s`;
  const parts = [`${s.phase}`];
  if (s.phase === 'copying')
    parts.push(`${s.copiedRows.toLocaleString('en')} / ${s.totalRows.toLocaleString('en')} rows (${percent} %)`);
  else parts.push(`${s.copiedRows.toLocaleString('en')} rows copied`);
  parts.push(`${s.rowsPerSecond.toLocaleString('en')} rows/s${eta}`, lag);
  if (s.verify) parts.push(`last verify: ${s.verify.mismatches} mismatches`);
  if (s.cutover) parts.push(`cut over, pause ${s.cutover.pauseMs} ms`);
  if (s.error) parts.push(`error: ${s.error}`);
  return parts.join(' · ');
}

function formatSeconds(n: number): string {
  if (n < 60) return `${n} s`;
  if (n < 3600) return `${Math.floor(n / 60)} min ${n % 60} s`;
  return `${Math.floor(n / 3600)} h ${Math.floor((n % 3600) / 60)} min`;
}

function errorText(body: unknown): string {
  const error = (body as { error?: { code?: string; message?: string } })?.error;
  return error ? `${error.code}: ${error.message}` : JSON.stringify(body);
}

async function watch(call: Fetch, until: (s: Status) => boolean): Promise<number> {
  const tty = process.stdout.isTTY;
  for (;;) {
    const { status, body } = await call('GET', '/admin/migration');
    if (status !== 200) {
      console.error(errorText(body));
      return 1;
    }
    const s = body as Status;
    if (tty) process.stdout.write(`\r\x1b[2K${progressLine(s)}`);
    if (until(s)) {
      process.stdout.write(tty ? '\n' : `${progressLine(s)}\n`);
      return s.phase === 'failed' ? 1 : 0;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function migrateCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = args;
  const call = client(env);
  const run = async (method: string, path: string, body?: unknown) => {
    try {
      return await call(method, path, body);
    } catch (error) {
      throw new Error(`cannot reach ${env.AGORA_URL ?? 'http://localhost:3000'}: ${(error as Error).message}`);
    }
  };
  const simple = async (method: string, path: string, show: (body: unknown) => string) => {
    const { status, body } = await run(method, path);
    if (status >= 400) {
      console.error(errorText(body));
      return 1;
    }
    console.log(show(body));
    return 0;
  };
  try {
    switch (command) {
      case 'start': {
        const at = rest.indexOf('--to');
        const target = at >= 0 ? rest[at + 1] : undefined;
        if (!target) {
          console.error(`usage: ${MIGRATE_USAGE}`);
          return 2;
        }
        const { status, body } = await run('POST', '/admin/migration', { target });
        if (status !== 202) {
          console.error(errorText(body));
          return 1;
        }
        console.log(`migration started: ${(body as Status).source} → ${(body as Status).target}`);
        if (!process.stdout.isTTY) return 0;
        return watch(run, (s) => s.phase !== 'copying');
      }
      case 'status':
        if (rest.includes('--watch')) return watch(run, (s) => !['copying', 'streaming', 'cut_over'].includes(s.phase));
        return simple('GET', '/admin/migration', (body) => {
          const s = body as Status;
          return s.phase === 'idle' ? 'no migration' : `${s.source} → ${s.target}\n${progressLine(s)}`;
        });
      case 'verify':
        return simple('POST', '/admin/migration/verify', (body) => {
          const report = body as {
            mismatches: number;
            tables: { name: string; sourceRows: number; targetRows: number; mismatches: number; keys: unknown[] }[];
          };
          const lines = report.tables.map(
            (t) =>
              `  ${t.name.padEnd(24)} ${String(t.sourceRows).padStart(10)} ${String(t.targetRows).padStart(10)} ${String(t.mismatches).padStart(6)}${t.keys.length ? `  ${JSON.stringify(t.keys)}` : ''}`,
          );
          return [
            `  ${'table'.padEnd(24)} ${'source'.padStart(10)} ${'target'.padStart(10)} ${'differ'.padStart(6)}`,
            ...lines,
            `${report.mismatches} mismatches`,
          ].join('\n');
        });
      case 'cutover':
        return simple(
          'POST',
          '/admin/migration/cutover',
          (body) => `cut over: the target is the primary (writes paused ${(body as { pauseMs: number }).pauseMs} ms)`,
        );
      case 'rollback':
        return simple(
          'POST',
          '/admin/migration/rollback',
          (body) =>
            `rolled back: the source is the primary (writes paused ${(body as { pauseMs: number }).pauseMs} ms)`,
        );
      case 'finish':
        return simple('POST', '/admin/migration/finish', () => 'finished: the source is retired');
      case 'abort':
        return simple('DELETE', '/admin/migration', () => 'aborted: capture removed from the source');
      default:
        console.error(`usage: ${MIGRATE_USAGE}`);
        return 2;
    }
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}
