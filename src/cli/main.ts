#!/usr/bin/env node
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config.js';
import { parseRedditLines, type RedditThreadMeta } from '../modules/comments/index.js';
import { AppError } from '../platform/errors.js';
import { systemClock } from '../platform/clock.js';
import { createLogger } from '../platform/log.js';
import { assertCompatible, loadMigrations, migrate, openStore, schemaStatus } from '../platform/store/index.js';
import { createAgora } from '../main.js';
import { followPrimary, redactUrl } from '../platform/migration/index.js';
import { BackupError, restoreBackup, takeBackup, verifyBackup, type Manifest } from '../platform/backup/index.js';
import { MIGRATE_USAGE, migrateCommand } from './migrate.js';
import { migrationsDir } from '../paths.js';

const USAGE = `usage: agora <command>

  serve         run the HTTP server (applies pending migrations unless AGORA_AUTO_MIGRATE=off)
  db migrate    apply pending schema migrations
  db status     show the schema version and pending migrations
  import reddit <file.jsonl> [--community <name>] [--meta <file.json>]
                load Reddit-format comment trees into a community (default
                \`imported\`, created if missing), one post per thread; titles
                from --meta (default: <file>-meta.json beside it, if there).
                Importing the same file again changes nothing. On SQLite, run
                it while the server is stopped (the server is the file's only
                writer).
  admin create <username>
                make a site admin account; the password is read from standard
                input (one line, 8–128 characters)
  admin grant <username> | admin revoke <username>
                give an existing account site admin rights, or take them away
                (on SQLite, with the server stopped, as for imports)
  backup [--verify] <dir>
                take a backup of the store into <dir> while the site serves
                (SQLite: its online backup API; PostgreSQL: pg_dump), with a
                manifest of its rows per table; --verify then restores it into
                a scratch store and checks it
  backup --verify <file>
                verify an existing backup file
  restore <file>
                restore a backup into the store AGORA_DATABASE_URL names,
                which must be empty; checked against the backup's manifest
  migrate start|status|verify|cutover|rollback|finish|abort
                move the running site to another store with no downtime
                (asks the server at AGORA_URL as AGORA_TOKEN's admin):
  ${MIGRATE_USAGE.replace(/\n/g, '\n  ')}
  help          this text

Configuration is by environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  if (command === 'serve') return serve();
  if (command === 'db' && sub === 'migrate') return dbMigrate();
  if (command === 'db' && sub === 'status') return dbStatus();
  if (command === 'import' && sub === 'reddit') return importReddit(argv.slice(2));
  if (command === 'migrate') return migrateCommand(argv.slice(1));
  if (command === 'backup') return backupCommand(argv.slice(1));
  if (command === 'restore') return restoreCommand(argv.slice(1));
  if (command === 'admin' && (sub === 'create' || sub === 'grant' || sub === 'revoke')) return admin(sub, argv[2]);
  if (command === undefined || command === 'help' || command === '--help') {
    console.log(USAGE);
    return 0;
  }
  console.error(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  return 2;
}

async function serve(): Promise<number> {
  const config = loadConfig();
  const agora = await createAgora(config);
  const { app, log } = agora;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    agora.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  agora.startWorkers();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  log.info(
    { url, store: agora.store.description, roles: config.roles, docs: `${url}/docs` },
    `Agora listening on ${url} — store ${agora.store.description} — API docs at ${url}/docs`,
  );
  return -1; // keep running
}

async function withStore<T>(fn: (store: ReturnType<typeof openStore>, url: string) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const open = (url: string) =>
    openStore({
      url,
      sqliteSync: config.sqliteSync,
      pgPoolSize: 2,
      onIdleError: (error) => log.warn({ err: error }, 'idle database connection failed'),
    });
  // After a live migration's cutover the configured store may be retired: work on the primary.
  const { store, url } = await followPrimary(open(config.databaseUrl), config.databaseUrl, open, log);
  try {
    return await fn(store, url);
  } finally {
    await store.close();
  }
}

async function dbMigrate(): Promise<number> {
  return withStore(async (store) => {
    const applied = await migrate(store, loadMigrations(migrationsDir(), store.dialect), systemClock);
    for (const m of applied) console.log(`applied ${String(m.version).padStart(4, '0')}_${m.name}`);
    console.log(
      applied.length === 0
        ? `${store.description}: schema is up to date`
        : `${store.description}: ${applied.length} migration(s) applied`,
    );
    return 0;
  });
}

async function dbStatus(): Promise<number> {
  return withStore(async (store) => {
    const status = await schemaStatus(store, loadMigrations(migrationsDir(), store.dialect));
    console.log(`store:    ${store.description}`);
    console.log(`current:  ${status.current}`);
    console.log(`latest:   ${status.latest}`);
    console.log(`pending:  ${status.pending.map((m) => `${m.version}_${m.name}`).join(', ') || 'none'}`);
    if (status.unknown.length > 0)
      console.log(`unknown:  ${status.unknown.join(', ')} (the database is newer than this build)`);
    if (status.altered.length > 0) console.log(`altered:  ${status.altered.join(', ')} (applied files were edited)`);
    try {
      assertCompatible(status);
    } catch (error) {
      console.error((error as Error).message);
      return 1;
    }
    return 0;
  });
}

async function importReddit(args: string[]): Promise<number> {
  const options = new Map<string, string>();
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--community' || arg === '--meta') options.set(arg, args[++i] ?? '');
    else files.push(arg);
  }
  const file = files[0];
  const communityName = options.get('--community') ?? 'imported';
  if (!file || files.length > 1 || !/^[A-Za-z0-9_]{3,21}$/.test(communityName)) {
    console.error(
      `usage: agora import reddit <file.jsonl> [--community <name: 3–21 of A–Z a–z 0–9 _>] [--meta <file.json>]`,
    );
    return 2;
  }
  const metaFile = options.get('--meta') ?? file.replace(/\.jsonl$/, '') + '-meta.json';
  const meta = existsSync(metaFile)
    ? (JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, RedditThreadMeta>)
    : undefined;
  try {
    const comments = parseRedditLines(readFileSync(file, 'utf8'));
    const agora = await createAgora({ ...loadConfig(), logLevel: 'warn' });
    try {
      const report = await agora.comments.importer.importReddit(comments, { communityName, ...(meta ? { meta } : {}) });
      console.log(
        `${file} -> ${agora.store.description}, community ${communityName}: ${report.threads} thread(s), ${report.postsCreated} post(s) and ` +
          `${report.commentsCreated} comment(s) created, ${report.commentsKept} comment(s) already there, ${report.placeholderAccounts} placeholder account(s)`,
      );
      return 0;
    } finally {
      await agora.close();
    }
  } catch (error) {
    // A bad line or a comment whose parent is missing: said plainly, nothing of that thread written.
    if (error instanceof AppError) {
      console.error(`${file}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function admin(action: 'create' | 'grant' | 'revoke', username: string | undefined): Promise<number> {
  if (!username || !/^[A-Za-z0-9_]{3,20}$/.test(username)) {
    console.error(`usage: agora admin ${action} <username: 3–20 of A–Z a–z 0–9 _>`);
    return 2;
  }
  let password = '';
  if (action === 'create') {
    password = (await readStdin()).replace(/\r?\n$/, '');
    if (password.length < 8 || password.length > 128 || password.includes('\n')) {
      console.error('agora admin create: give the password on standard input, one line of 8–128 characters');
      return 2;
    }
  }
  const agora = await createAgora({ ...loadConfig(), logLevel: 'warn' });
  try {
    if (action === 'create') await agora.accounts.createAdmin({ username, password });
    else await agora.accounts.setAdmin(username, action === 'grant');
    console.log(
      `${username}: ${action === 'revoke' ? 'no longer a site admin' : 'site admin'} (${agora.store.description})`,
    );
    return 0;
  } catch (error) {
    if (error instanceof AppError) {
      console.error(
        `agora admin ${action} ${username}: ${error.message}${error.code === 'username_taken' ? ' (use `agora admin grant`)' : ''}`,
      );
      return 1;
    }
    throw error;
  } finally {
    await agora.close();
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const describe = (m: Manifest) =>
  `${mb(m.bytes)}, ${Object.keys(m.tables).length} tables, ${Object.values(m.tables)
    .reduce((a, b) => a + b, 0)
    .toLocaleString('en')} rows, schema version ${m.schemaVersion}`;

/** A backup refused or failed: its message, exit code 1. */
async function backupFailure(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(error.message);
    return 1;
  }
}

async function backupCommand(args: string[]): Promise<number> {
  const verify = args.includes('--verify');
  const paths = args.filter((a) => a !== '--verify');
  if (paths.length !== 1 || paths[0]!.startsWith('-')) {
    console.error('usage: agora backup [--verify] <dir> | agora backup --verify <file>');
    return 2;
  }
  const path = paths[0]!;
  return backupFailure(() =>
    withStore(async (_store, url) => {
      let file = path;
      if (!(verify && existsSync(path) && statSync(path).isFile())) {
        const started = Date.now();
        const taken = await takeBackup(url, path);
        file = taken.file;
        console.log(`backup: ${file} (${describe(taken.manifest)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      if (verify) {
        const started = Date.now();
        const manifest = await verifyBackup(file, url);
        console.log(
          `verified: ${file} restored into a scratch store in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
            `integrity checked, schema version and every table's rows equal the source's at ${new Date(manifest.takenAt).toISOString()}`,
        );
      }
      return 0;
    }),
  );
}

async function restoreCommand(args: string[]): Promise<number> {
  const [file, ...rest] = args;
  if (!file || rest.length > 0 || file.startsWith('-')) {
    console.error('usage: agora restore <file>');
    return 2;
  }
  const url = loadConfig().databaseUrl;
  return backupFailure(async () => {
    const started = Date.now();
    const manifest = await restoreBackup(file, url);
    console.log(
      `restored: ${file} (${describe(manifest)}, taken ${new Date(manifest.takenAt).toISOString()}) into ${redactUrl(url)} in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s; every table's rows checked`,
    );
    return 0;
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
