import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { createBackupSchedule } from './platform/backup/index.js';
import { systemClock, type Clock } from './platform/clock.js';
import { createCursors } from './platform/cursor.js';
import { createAuthHooks, createHttpApp, opsRoutes, type App } from './platform/http/index.js';
import { createIdGenerator } from './platform/ids.js';
import { createLogger, type Logger } from './platform/log.js';
import { createMemoryBudget } from './platform/memory.js';
import {
  createMetrics,
  registerMemoryGauges,
  registerMigrationMetrics,
  registerStoreGauges,
} from './platform/metrics.js';
import { createMigrator, followPrimary, migrationRoutes, type Migrator } from './platform/migration/index.js';
import { createOutbox, type Outbox } from './platform/outbox/index.js';
import {
  assertCompatible,
  createStoreHandle,
  loadMigrations,
  migrate,
  appliedVersion,
  openStore,
  siteSecret,
  schemaStatus,
  type Store,
  type StoreHandle,
} from './platform/store/index.js';
import { createAccountsModule, type AccountsModule } from './modules/accounts/index.js';
import { createCommentsModule, type CommentsModule } from './modules/comments/index.js';
import { createCommunitiesModule } from './modules/communities/index.js';
import { createBuiltInProvider, createDropsModule } from './modules/drops/index.js';
import { createModerationModule } from './modules/moderation/index.js';
import { createLogMailer, createNotificationsModule, createSmtpMailer } from './modules/notifications/index.js';
import { createPostsModule } from './modules/posts/index.js';
import { createSearchModule } from './modules/search/index.js';
import { createVotesModule } from './modules/votes/index.js';
import { migrationsDir, projectRoot } from './paths.js';
import { createWebSessions, webRoutes } from './web/index.js';

export interface Agora {
  app: App;
  store: StoreHandle;
  outbox: Outbox;
  log: Logger;
  /** The accounts module (`agora admin` makes admins with it). */
  accounts: AccountsModule;
  /** The comments module (the `agora import reddit` command uses its importer). */
  comments: CommentsModule;
  /** The live migration between stores (its admin routes are served; tests drive it directly too). */
  migrator: Migrator;
  /** Starts background workers (outbox dispatcher). */
  startWorkers(): void;
  /** Stops accepting, finishes in-flight requests, stops workers, closes the store. */
  close(): Promise<void>;
}

export interface AgoraOverrides {
  clock?: Clock;
  log?: Logger;
  /** Outbox retry timing (tests shorten it). */
  outboxBackoffMs?: { base: number; max: number };
}

/** The composition root: config -> store -> modules -> http. Nothing else wires dependencies. */
export async function createAgora(config: Config, overrides: AgoraOverrides = {}): Promise<Agora> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? createLogger(config.logLevel);
  const ids = createIdGenerator(() => clock.now());
  const metrics = createMetrics();
  const memory = createMemoryBudget(config.memoryBudgetMb * 1024 * 1024);
  registerMemoryGauges(metrics, memory);
  const open = (url: string, options: { foreignKeys: boolean } = { foreignKeys: true }) =>
    openStore({
      url,
      sqliteSync: config.sqliteSync,
      pgPoolSize: config.pgPoolSize,
      foreignKeys: options.foreignKeys,
      // The replicas are the configured store's.
      ...(url === config.databaseUrl
        ? { replicas: { urls: config.replicaUrls, maxLagMs: config.replicaMaxLagMs } }
        : {}),
      onIdleError: (error) => log.warn({ err: error }, 'idle database connection failed'),
      onCheckpointError: (error) =>
        log.warn({ err: error }, 'WAL checkpoint worker failed; the writer checkpoints by itself'),
    });
  // A store a live migration moved away from is never served: the process follows the primary its record names.
  const configured = open(config.databaseUrl);
  let placed: { store: Store; url: string };
  try {
    placed = await followPrimary(configured, config.databaseUrl, open, log);
  } catch (error) {
    await configured.close();
    throw error;
  }
  const base = placed.store;
  if (base.dialect === 'sqlite' && config.roles.length < 2) {
    await base.close();
    throw new Error(
      `AGORA_ROLES=${config.roles.join(',')} needs PostgreSQL: a SQLite store is served by one process, which has every role`,
    );
  }
  const store = createStoreHandle(base, (seconds) => metrics.storeWriteDuration.observe(seconds));

  try {
    const migrations = loadMigrations(migrationsDir(), store.dialect);
    if (config.autoMigrate) {
      const applied = await migrate(store, migrations, clock);
      for (const m of applied) log.info({ version: m.version, name: m.name }, 'applied schema migration');
    }
    const status = await schemaStatus(store, migrations);
    assertCompatible(status);
    if (status.pending.length > 0) {
      throw new Error(`the database schema is behind (${status.current} < ${status.latest}); run \`agora db migrate\``);
    }
  } catch (error) {
    await store.close();
    throw error;
  }

  const cursors = createCursors(await siteSecret(store, 'cursors'));
  const outbox = createOutbox({
    store,
    clock,
    ids,
    log,
    pollMs: config.outboxPollMs,
    baseBackoffMs: overrides.outboxBackoffMs?.base ?? 1000,
    maxBackoffMs: overrides.outboxBackoffMs?.max ?? 300_000,
    maxAttempts: 25,
    onDelivered: (topic) => metrics.outboxDelivered.inc({ topic }),
    onFailure: (topic) => metrics.outboxFailures.inc({ topic }),
  });
  registerStoreGauges(metrics, store, () => outbox.backlog());

  const accounts = createAccountsModule({
    store,
    memory,
    clock,
    ids,
    outbox,
    scryptCost: config.scryptCost,
    sessionTtlMs: config.sessionTtlDays * 24 * 3600_000,
    cacheTtlMs: config.cacheTtlMs,
    admins: config.admins,
    limits: {
      signupsPerHourPerIp: config.rateLimitSignupsPerHour,
      loginsPerMinutePerIp: config.rateLimitLoginsPerMinute,
    },
  });
  const auth = createAuthHooks(accounts.authenticate);
  const search = createSearchModule({ store, memory, clock, cursors, cacheTtlMs: config.cacheTtlMs });
  const votes = createVotesModule({ store, clock });
  const communities = createCommunitiesModule({
    store,
    memory,
    clock,
    ids,
    outbox,
    accounts,
    search,
    cursors,
    cacheTtlMs: config.cacheTtlMs,
  });
  const moderation = createModerationModule({ store, clock, ids, accounts, communities, cursors });
  const posts = createPostsModule({
    store,
    memory,
    clock,
    ids,
    cursors,
    outbox,
    accounts,
    communities,
    moderation,
    votes,
    search,
    cacheTtlMs: config.cacheTtlMs,
    feedMergeLimit: config.feedMergeLimit,
  });
  const comments = createCommentsModule({
    store,
    memory,
    clock,
    ids,
    outbox,
    accounts,
    communities,
    posts,
    moderation,
    votes,
    search,
    cursors,
    cacheTtlMs: config.cacheTtlMs,
  });
  comments.start();
  const drops = createDropsModule({
    store,
    memory,
    clock,
    ids,
    outbox,
    log,
    cursors,
    communities,
    payments: createBuiltInProvider(config.publicUrl),
    moderation,
    orderTtlMs: config.orderTtlSeconds * 1000,
    pendingPerAccount: config.orderPendingPerAccount,
    ordersPerMinute: config.rateLimitOrdersPerMinute,
    keyTtlMs: 48 * 3600_000,
    sweepMs: 500,
    registry: metrics.registry,
    webhookSecret: config.paymentWebhookSecret,
  });
  if (!config.paymentWebhookSecret)
    log.warn('AGORA_PAYMENT_WEBHOOK_SECRET is not set: payment webhooks are refused, orders cannot be paid');
  const mailer = config.smtpUrl ? createSmtpMailer(config.smtpUrl, config.mailFrom) : createLogMailer(log);
  createNotificationsModule({
    outbox,
    log,
    mailer,
    domain: new URL(config.publicUrl).hostname,
    contact: accounts.contact,
    orderSummary: drops.orderSummary,
  }).start();
  search.registerHydrator('posts', posts.visibleByIds);
  search.registerHydrator('communities', communities.byIds);
  search.registerHydrator('comments', comments.byIds);

  const latest = loadMigrations(migrationsDir(), store.dialect).reduce((max, m) => Math.max(max, m.version), 0);
  const readiness = async () => {
    const checks: Record<string, string> = {};
    try {
      const current = await appliedVersion(store);
      checks.store = 'ok';
      checks.schema = current === latest ? `ok (version ${current})` : `behind or ahead (${current}/${latest})`;
    } catch (error) {
      checks.store = `unreachable: ${(error as Error).message}`;
    }
    checks.writes = store.readOnly ? 'read-only' : 'ok';
    return { ok: checks.store === 'ok' && (checks.schema ?? '').startsWith('ok'), checks };
  };

  const migrator = createMigrator({
    handle: store,
    url: placed.url,
    open,
    async prepare(target) {
      await migrate(target, loadMigrations(migrationsDir(), target.dialect), clock);
      assertCompatible(await schemaStatus(target, loadMigrations(migrationsDir(), target.dialect)));
    },
    special: search.migratedTables,
    log,
    cutoverLagMs: config.migrationCutoverLagMs,
    chunkRows: config.migrationChunkRows,
    observe: (event) => observeMigration(event),
  });
  const observeMigration = registerMigrationMetrics(metrics, () => migrator.status());

  const app = await createHttpApp(
    {
      log,
      metrics,
      bodyLimitBytes: config.bodyLimitBytes,
      trustProxy: config.trustProxy,
      rateLimit: {
        enabled: config.rateLimit,
        perIpPerMinute: config.rateLimitPerMinute,
        perAccountPerMinute: config.rateLimitAccountPerMinute,
      },
      version: packageVersion(),
      ...(config.replicaUrls.length > 0 ? { readPositions: store } : {}),
    },
    [
      opsRoutes(metrics, readiness, config.metricsToken),
      // A worker-only process answers the operations routes alone (health, readiness, metrics).
      ...(!config.roles.includes('web')
        ? []
        : [
            accounts.routes(auth),
            communities.routes(auth),
            posts.routes(auth, {
              postsPer10Min: config.rateLimitPostsPer10Min,
              votesPerMinute: config.rateLimitVotesPerMinute,
              reportsPer10Min: config.rateLimitReportsPer10Min,
            }),
            comments.routes(auth, {
              commentsPerMinute: config.rateLimitCommentsPerMinute,
              votesPerMinute: config.rateLimitVotesPerMinute,
              reportsPer10Min: config.rateLimitReportsPer10Min,
            }),
            moderation.routes(auth),
            search.routes(auth),
            drops.routes(auth),
            migrationRoutes(migrator, auth),
            webRoutes({
              accounts,
              communities,
              posts,
              comments,
              search,
              moderation,
              drops,
              migrationStatus: () => migrator.status(),
              clock,
              sessions: createWebSessions({
                authenticate: accounts.authenticate,
                secret: await siteSecret(store, 'forms'),
                secure: config.publicUrl.startsWith('https:'),
                now: () => clock.now(),
              }),
              memory,
              assets: {
                css: join(projectRoot(), 'src/web/assets/site.css'),
                js: join(projectRoot(), 'dist/src/web/client/site.js'),
              },
              bodyLimitBytes: config.bodyLimitBytes,
              limits: {
                signupsPerHourPerIp: config.rateLimitSignupsPerHour,
                loginsPerMinutePerIp: config.rateLimitLoginsPerMinute,
                postsPer10Min: config.rateLimitPostsPer10Min,
                commentsPerMinute: config.rateLimitCommentsPerMinute,
                votesPerMinute: config.rateLimitVotesPerMinute,
                reportsPer10Min: config.rateLimitReportsPer10Min,
                ordersPerMinute: config.rateLimitOrdersPerMinute,
                liveStreamsMax: config.liveStreamsMax,
                liveStreamsPerClient: config.liveStreamsPerClient,
              },
            }),
          ]),
    ],
  );

  const backups =
    config.backupDir && config.roles.includes('worker')
      ? createBackupSchedule({
          dir: config.backupDir,
          everyMs: config.backupEveryMs,
          keep: config.backupKeep,
          run: () => runCli(['backup', '--verify', config.backupDir], { AGORA_DATABASE_URL: config.databaseUrl }),
          clock,
          log,
          metrics,
        })
      : null;

  let closing: Promise<void> | null = null;
  return {
    app,
    store,
    outbox,
    log,
    accounts,
    comments,
    migrator,
    startWorkers: () => {
      migrator.resume().catch((error: unknown) => log.error({ err: error }, 'migration: resume failed'));
      if (!config.roles.includes('worker')) return;
      outbox.start();
      drops.startWorkers();
      backups?.start().catch((error: unknown) => log.error({ err: error }, 'backup: the schedule did not start'));
    },
    close() {
      closing ??= (async () => {
        await app.close();
        await drops.stopWorkers();
        await outbox.stop();
        await migrator.stop();
        await backups?.stop();
        mailer.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** Runs `agora <args>` as a child process with this one's environment and `env`; rejects with its last output lines. */
function runCli(args: string[], env: Record<string, string>): Promise<void> {
  const cli = fileURLToPath(new URL('./cli/main.js', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (!error) return resolve();
      const said = `${stderr}${stdout}`.trim().split('\n').slice(-3).join(' ');
      reject(new Error(`agora ${args[0]} failed: ${said || error.message}`));
    });
  });
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
