import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEST_ENV } from './app.js';
import { testEnv } from './env.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** Every log line so far. */
  lines: string[];
  exited: Promise<number | null>;
}

/** Runs `agora serve` as a real process on a free port; resolves once it listens. */
export async function startServerProcess(env: Record<string, string>, cwd?: string): Promise<ServerProcess> {
  const childEnv: Record<string, string | undefined> = {
    ...testEnv(),
    ...TEST_ENV,
    AGORA_LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  };
  // Without an explicit store the server takes its default (./data/agora.db in cwd).
  if (!env.AGORA_DATABASE_URL) delete childEnv.AGORA_DATABASE_URL;
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const url = /"url":"(http:[^"]+)"/.exec(line)?.[1];
        if (url && line.includes('Agora listening')) resolve(url);
      });
    }
    void exited.then((code) => reject(new Error(`server exited with ${code}:\n${lines.join('\n')}`)));
  });
  return { child, base, lines, exited };
}
