/**
 * Typed configuration from environment variables. Every variable is listed
 * here once, with its default and its check; README.md's table mirrors it
 * (a test keeps the two in step).
 */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  replicaUrls: string[];
  replicaMaxLagMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  admins: string[];
  rateLimit: boolean;
  rateLimitPerMinute: number;
  rateLimitAccountPerMinute: number;
  rateLimitSignupsPerHour: number;
  rateLimitLoginsPerMinute: number;
  rateLimitPostsPer10Min: number;
  rateLimitVotesPerMinute: number;
  rateLimitReportsPer10Min: number;
  rateLimitCommentsPerMinute: number;
  memoryBudgetMb: number;
  sqliteSync: 'normal' | 'full';
  pgPoolSize: number;
  sessionTtlDays: number;
  cacheTtlMs: number;
  feedMergeLimit: number;
  orderTtlSeconds: number;
  orderPendingPerAccount: number;
  liveStreamsMax: number;
  liveStreamsPerClient: number;
  rateLimitOrdersPerMinute: number;
  smtpUrl: string;
  mailFrom: string;
  paymentWebhookSecret: string;
  publicUrl: string;
  scryptCost: number;
  bodyLimitBytes: number;
  metricsToken: string;
  /** Addresses or CIDR ranges of trusted reverse proxies (empty: none). */
  trustProxy: string[];
  autoMigrate: boolean;
  outboxPollMs: number;
  shutdownTimeoutMs: number;
  migrationCutoverLagMs: number;
  migrationChunkRows: number;
  roles: Role[];
  backupDir: string;
  backupEveryMs: number;
  backupKeep: number;
}

type Env = Record<string, string | undefined>;

/** `web`: serves HTTP; `worker`: the outbox dispatcher, order expiry, scheduled backups. */
export type Role = 'web' | 'worker';

interface Spec<T> {
  env: string;
  default: string;
  doc: string;
  parse: (raw: string) => T;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const CONFIG_SPEC: { [K in keyof Config]: Spec<Config[K]> } = {
  port: { env: 'PORT', default: '3000', doc: 'HTTP port', parse: int(0, 65535) },
  host: { env: 'HOST', default: 'localhost', doc: 'Interface to listen on (`0.0.0.0` for all)', parse: nonEmpty },
  databaseUrl: {
    env: 'AGORA_DATABASE_URL',
    default: 'sqlite:./data/agora.db',
    doc: 'The store: `sqlite:<file>` (created on first start) or `postgres://user:pass@host:port/db`',
    parse: nonEmpty,
  },
  replicaUrls: {
    env: 'AGORA_DATABASE_REPLICA_URLS',
    default: '',
    doc: "PostgreSQL read replicas (hot standbys of the primary), comma-separated `postgres://` URLs: reads that may be a little behind (profiles' listings) go to one that has replayed the reader's own writes",
    parse: (raw) => {
      const urls = commaList(raw);
      if (urls.some((u) => !/^postgres(ql)?:\/\//.test(u)))
        throw new Error('must be postgres:// URLs, comma-separated');
      return urls;
    },
  },
  replicaMaxLagMs: {
    env: 'AGORA_REPLICA_MAX_LAG_MS',
    default: '10000',
    doc: 'A replica further behind the primary than this (or down) is out of rotation until it catches up (metric `agora_replica_lag_seconds`)',
    parse: int(100, 3_600_000),
  },
  logLevel: {
    env: 'AGORA_LOG_LEVEL',
    default: 'info',
    doc: `Log level: ${LOG_LEVELS.join(', ')}`,
    parse: oneOf(LOG_LEVELS),
  },
  admins: {
    env: 'AGORA_ADMINS',
    default: '',
    doc: 'Comma-separated usernames reserved for site admins: sign-up refuses them; make them with `agora admin create <name>` (admin rights belong to accounts, never to a name)',
    parse: (raw) => commaList(raw).map((s) => s.toLowerCase()),
  },
  rateLimit: { env: 'AGORA_RATE_LIMIT', default: 'on', doc: '`on` or `off` (off for load tests)', parse: onOff },
  rateLimitPerMinute: {
    env: 'AGORA_RATE_LIMIT_PER_MINUTE',
    default: '600',
    doc: 'Requests a minute per IP address (anonymous requests)',
    parse: int(1, 10_000_000),
  },
  rateLimitAccountPerMinute: {
    env: 'AGORA_RATE_LIMIT_ACCOUNT_PER_MINUTE',
    default: '1200',
    doc: 'Requests a minute per signed-in account',
    parse: int(1, 10_000_000),
  },
  rateLimitSignupsPerHour: {
    env: 'AGORA_RATE_LIMIT_SIGNUPS_PER_HOUR',
    default: '30',
    doc: 'Accounts created an hour per IP address',
    parse: int(1, 10_000_000),
  },
  rateLimitLoginsPerMinute: {
    env: 'AGORA_RATE_LIMIT_LOGINS_PER_MINUTE',
    default: '20',
    doc: 'Sign-in attempts a minute per IP address',
    parse: int(1, 10_000_000),
  },
  rateLimitPostsPer10Min: {
    env: 'AGORA_RATE_LIMIT_POSTS_PER_10MIN',
    default: '6',
    doc: "Posts an account may create in ten minutes (Lemmy's default)",
    parse: int(1, 10_000_000),
  },
  rateLimitVotesPerMinute: {
    env: 'AGORA_RATE_LIMIT_VOTES_PER_MINUTE',
    default: '180',
    doc: 'Votes an account may cast a minute',
    parse: int(1, 10_000_000),
  },
  rateLimitReportsPer10Min: {
    env: 'AGORA_RATE_LIMIT_REPORTS_PER_10MIN',
    default: '10',
    doc: 'Reports an account may file in ten minutes',
    parse: int(1, 10_000_000),
  },
  rateLimitCommentsPerMinute: {
    env: 'AGORA_RATE_LIMIT_COMMENTS_PER_MINUTE',
    default: '30',
    doc: 'Comments an account may write a minute',
    parse: int(1, 10_000_000),
  },
  memoryBudgetMb: {
    env: 'AGORA_MEMORY_BUDGET_MB',
    default: '256',
    doc: 'Memory for every in-memory copy together (comment trees, listing pages, search results, drop, session and account copies), in MiB; the least recently used go first (metric `agora_memory_copies_bytes`)',
    parse: int(1, 1_048_576),
  },
  sqliteSync: {
    env: 'AGORA_SQLITE_SYNC',
    default: 'normal',
    doc: 'SQLite durability: `normal` survives a killed process; `full` also survives power loss (fsync per group commit)',
    parse: oneOf(['normal', 'full'] as const),
  },
  pgPoolSize: {
    env: 'AGORA_PG_POOL_SIZE',
    default: '20',
    doc: 'PostgreSQL connections per process',
    parse: int(1, 1000),
  },
  sessionTtlDays: {
    env: 'AGORA_SESSION_TTL_DAYS',
    default: '30',
    doc: 'How long a session token lives',
    parse: int(1, 3650),
  },
  cacheTtlMs: {
    env: 'AGORA_CACHE_TTL_MS',
    default: '1000',
    doc: "PostgreSQL only: how long a process may serve its in-memory copy of an account, subscription list or search result changed by another process (0: no copies); listing pages and sessions too while the notices of other processes' changes (LISTEN/NOTIFY) are not heard. SQLite copies are exact",
    parse: int(0, 3_600_000),
  },
  orderTtlSeconds: {
    env: 'AGORA_ORDER_TTL_SECONDS',
    default: '600',
    doc: 'How long a pending (unpaid) order holds its units; then it expires and they return to the drop',
    parse: int(1, 7 * 86_400),
  },
  orderPendingPerAccount: {
    env: 'AGORA_ORDER_PENDING_PER_ACCOUNT',
    default: '5',
    doc: 'Unpaid orders one account may hold at once, over every drop (more: `409 too_many_pending`)',
    parse: int(1, 1000),
  },
  liveStreamsMax: {
    env: 'AGORA_LIVE_STREAMS_MAX',
    default: '20000',
    doc: "Drop pages' live stock streams (Server-Sent Events) open at once in this process; past it a page polls instead",
    parse: int(1, 1_000_000),
  },
  liveStreamsPerClient: {
    env: 'AGORA_LIVE_STREAMS_PER_CLIENT',
    default: '20',
    doc: 'Live stock streams open at once from one client address (/64 for IPv6); more: `429 rate_limited`',
    parse: int(1, 1_000_000),
  },
  rateLimitOrdersPerMinute: {
    env: 'AGORA_RATE_LIMIT_ORDERS_PER_MINUTE',
    default: '10',
    doc: 'Orders an account may place a minute; accounts less than a day old count together per IP address (/64 for IPv6), so throwaway accounts cannot multiply it',
    parse: int(1, 10_000_000),
  },
  smtpUrl: {
    env: 'AGORA_SMTP_URL',
    default: '',
    doc: 'SMTP server for order e-mails: `smtp://user:pass@host:587` or `smtps://…` (empty: e-mails are written to the log)',
    parse: (raw) => {
      if (raw && !/^smtps?:\/\//.test(raw)) throw new Error('must start with smtp:// or smtps://');
      return raw;
    },
  },
  mailFrom: {
    env: 'AGORA_MAIL_FROM',
    default: 'Agora <no-reply@localhost>',
    doc: 'The From: of the e-mails Agora sends',
    parse: nonEmpty,
  },
  paymentWebhookSecret: {
    env: 'AGORA_PAYMENT_WEBHOOK_SECRET',
    default: '',
    doc: "Shared secret of the payment provider's webhook signatures (empty: every webhook is refused with `invalid_signature`)",
    parse: (raw) => raw,
  },
  publicUrl: {
    env: 'AGORA_PUBLIC_URL',
    default: 'http://localhost:3000',
    doc: "The site's public address, for links it hands out (the built-in payment provider's `paymentUrl`); when it is `https:`, the pages' session cookies are `Secure`",
    parse: (raw) => {
      if (!/^https?:\/\/[^\s/]+/.test(raw)) throw new Error('must be an http(s) URL');
      return raw;
    },
  },
  feedMergeLimit: {
    env: 'AGORA_FEED_MERGE_LIMIT',
    default: '250',
    doc: 'Up to this many subscriptions the home feed merges per-community pages kept in memory; beyond, it walks the global rank index',
    parse: int(0, 100_000),
  },
  scryptCost: {
    env: 'AGORA_SCRYPT_COST',
    default: '131072',
    doc: "scrypt N for new password hashes (a power of two; r=8, p=1; OWASP's minimum is 131072). A hash made with a lower N is re-hashed at its next sign-in",
    parse: (raw) => {
      const n = int(1024, 1 << 20)(raw);
      if ((n & (n - 1)) !== 0) throw new Error('must be a power of two');
      return n;
    },
  },
  bodyLimitBytes: {
    env: 'AGORA_BODY_LIMIT_BYTES',
    default: '262144',
    doc: 'Largest request body; larger gets 413',
    parse: int(1024, 64 * 1024 * 1024),
  },
  metricsToken: {
    env: 'AGORA_METRICS_TOKEN',
    default: '',
    doc: 'Bearer token that `GET /metrics` requires (`Authorization: Bearer <token>`); empty: /metrics is not served',
    parse: (raw) => {
      if (raw && !/^[\x21-\x7e]{16,256}$/.test(raw))
        throw new Error('must be 16–256 printable characters without spaces');
      return raw;
    },
  },
  trustProxy: {
    env: 'AGORA_TRUST_PROXY',
    default: 'off',
    doc: '`off`, or the addresses (or CIDR ranges) of your reverse proxies, comma-separated (`127.0.0.1,::1`): only a request from one of them has its client IP taken from X-Forwarded-For',
    parse: (raw) => {
      if (raw === 'off') return [];
      const list = commaList(raw);
      const address = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)(?:\/\d{1,3})?$/;
      if (list.length === 0 || list.some((a) => !address.test(a))) {
        throw new Error(
          "must be `off` or the proxies' addresses or CIDR ranges, comma-separated (e.g. 127.0.0.1,::1 or 10.0.0.0/8)",
        );
      }
      return list;
    },
  },
  autoMigrate: {
    env: 'AGORA_AUTO_MIGRATE',
    default: 'on',
    doc: '`serve` applies pending schema migrations at start (`off`: run `agora db migrate` yourself)',
    parse: onOff,
  },
  outboxPollMs: {
    env: 'AGORA_OUTBOX_POLL_MS',
    default: '500',
    doc: 'How often the outbox dispatcher looks for due events (it is also woken by each commit)',
    parse: int(10, 600_000),
  },
  shutdownTimeoutMs: {
    env: 'AGORA_SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    doc: 'On SIGTERM, how long in-flight requests get to finish',
    parse: int(0, 600_000),
  },
  migrationCutoverLagMs: {
    env: 'AGORA_MIGRATION_CUTOVER_LAG_MS',
    default: '2000',
    doc: "A live migration's cutover starts only while the target is at most this far behind (the rest drains inside the write pause)",
    parse: int(0, 3_600_000),
  },
  migrationChunkRows: {
    env: 'AGORA_MIGRATION_CHUNK_ROWS',
    default: '2000',
    doc: "Most rows a live migration copies per chunk (its throttle lowers it while the site's event loop is slowed)",
    parse: int(10, 100_000),
  },
  roles: {
    env: 'AGORA_ROLES',
    default: 'web,worker',
    doc: 'What this process does: `web` serves HTTP (pages and API); `worker` runs the outbox dispatcher, order expiry and scheduled backups. Any number of each on one PostgreSQL; a worker-only process answers `/healthz`, `/readyz` and `/metrics` alone',
    parse: (raw) => {
      const roles = [...new Set(commaList(raw))];
      if (roles.length === 0 || roles.some((r) => r !== 'web' && r !== 'worker'))
        throw new Error('must be `web`, `worker` or `web,worker`');
      return roles as Role[];
    },
  },
  backupDir: {
    env: 'AGORA_BACKUP_DIR',
    default: '',
    doc: 'Folder of scheduled backups (empty: none are taken); each is verified by a restore into a scratch store',
    parse: (raw) => raw.trim(),
  },
  backupEveryMs: {
    env: 'AGORA_BACKUP_EVERY',
    default: '24h',
    doc: 'Time between scheduled backups: `90s`, `30m`, `6h`, `1d` (at least a minute)',
    parse: interval(60_000),
  },
  backupKeep: {
    env: 'AGORA_BACKUP_KEEP',
    default: '7',
    doc: 'Verified backups kept in `AGORA_BACKUP_DIR`; older ones are removed',
    parse: int(1, 10_000),
  },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and checks every variable; all problems are reported at once. */
export function loadConfig(env: Env = process.env): Config {
  const out: Partial<Record<keyof Config, unknown>> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(CONFIG_SPEC) as [keyof Config, Spec<unknown>][]) {
    const raw = env[spec.env] ?? spec.default;
    try {
      out[key] = spec.parse(raw.trim());
    } catch (error) {
      problems.push(`${spec.env}=${JSON.stringify(raw)}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return out as Config;
}

function int(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw)) throw new Error('must be a whole number');
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
    return n;
  };
}

/** `90s`, `30m`, `6h`, `1d` (or a number of seconds) → milliseconds, at least `min`. */
function interval(min: number) {
  return (raw: string): number => {
    const m = /^(\d+)(s|m|h|d)?$/.exec(raw.trim());
    const ms = m ? Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 's'] : NaN;
    if (!(ms >= min)) throw new Error(`must be an interval like 90s, 30m, 6h or 1d, at least ${min / 1000} s`);
    return ms;
  };
}

/** `a, b,,c` → `['a', 'b', 'c']`. */
function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')}`);
    return raw as T;
  };
}

function onOff(raw: string): boolean {
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new Error('must be on or off');
}

function nonEmpty(raw: string): string {
  if (!raw) throw new Error('must not be empty');
  return raw;
}
