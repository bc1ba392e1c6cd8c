#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config.js';
import { systemClock } from '../platform/clock.js';
import { createLogger } from '../platform/log.js';
import { assertCompatible, loadMigrations, migrate, openStore, schemaStatus } from '../platform/store/index.js';
import { createAgora } from '../main.js';
import { migrationsDir } from '../paths.js';

const USAGE = `usage: agora <command>

  serve         run the HTTP server (applies pending migrations unless AGORA_AUTO_MIGRATE=off)
  db migrate    apply pending schema migrations
  db status     show the schema version and pending migrations
  help          this text

Configuration is by environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  if (command === 'serve') return serve();
  if (command === 'db' && sub === 'migrate') return dbMigrate();
  if (command === 'db' && sub === 'status') return dbStatus();
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
  log.info({ url, store: agora.store.description, docs: `${url}/docs` }, `Agora listening on ${url} — store ${agora.store.description} — API docs at ${url}/docs`);
  return -1; // keep running
}

async function withStore<T>(fn: (store: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const store = openStore({
    url: config.databaseUrl,
    sqliteSync: config.sqliteSync,
    pgPoolSize: 2,
    onIdleError: (error) => log.warn({ err: error }, 'idle database connection failed'),
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function dbMigrate(): Promise<number> {
  return withStore(async (store) => {
    const applied = await migrate(store, loadMigrations(migrationsDir(), store.dialect), systemClock);
    for (const m of applied) console.log(`applied ${String(m.version).padStart(4, '0')}_${m.name}`);
    console.log(applied.length === 0 ? `${store.description}: schema is up to date` : `${store.description}: ${applied.length} migration(s) applied`);
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
    if (status.unknown.length > 0) console.log(`unknown:  ${status.unknown.join(', ')} (the database is newer than this build)`);
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
