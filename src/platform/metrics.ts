import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MemoryBudget } from './memory.js';
import type { Store } from './store/index.js';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  storeWriteDuration: Histogram;
  outboxDelivered: Counter<'topic'>;
  outboxFailures: Counter<'topic'>;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Event-loop delay since the previous scrape: how long a timer waited for the
 * loop beyond its time (a request that blocks the loop shows here as the
 * wait it imposed on every other one).
 */
function registerLoopDelay(registry: Registry): void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
  let reset = false;
  const collected = () => {
    if (reset) return;
    reset = true;
    setImmediate(() => {
      delay.reset();
      reset = false;
    });
  };
  new Gauge({
    name: 'agora_event_loop_delay_max_seconds',
    help: 'Longest event-loop delay since the previous scrape',
    registers: [registry],
    collect() {
      this.set(seconds(delay.max));
      collected();
    },
  });
  new Gauge({
    name: 'agora_event_loop_delay_p99_seconds',
    help: '99th percentile of the event-loop delay since the previous scrape (10 ms resolution)',
    registers: [registry],
    collect() {
      this.set(seconds(delay.percentile(99)));
      collected();
    },
  });
}

/** One registry per process, built at the composition root. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerLoopDelay(registry);
  return {
    registry,
    httpDuration: new Histogram({
      name: 'agora_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    storeWriteDuration: new Histogram({
      name: 'agora_store_write_duration_seconds',
      help: 'Write transaction time, from queueing to commit',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    outboxDelivered: new Counter({
      name: 'agora_outbox_delivered_total',
      help: 'Outbox events delivered to all their handlers',
      labelNames: ['topic'],
      registers: [registry],
    }),
    outboxFailures: new Counter({
      name: 'agora_outbox_failures_total',
      help: 'Outbox delivery attempts that failed (retried with backoff)',
      labelNames: ['topic'],
      registers: [registry],
    }),
  };
}

/** Gauges read at scrape time: writer queue and outbox backlog. */
export function registerStoreGauges(
  metrics: Metrics,
  store: Store,
  backlog: () => Promise<{ pending: number; oldestAgeMs: number; failed: number }>,
): void {
  const { registry } = metrics;
  new Gauge({
    name: 'agora_store_writer_queue_depth',
    help: 'Write transactions waiting for the writer',
    registers: [registry],
    collect() {
      this.set(store.stats().writerQueueDepth);
    },
  });
  new Gauge({
    name: 'agora_store_writes_in_flight',
    help: 'Write transactions running',
    registers: [registry],
    collect() {
      this.set(store.stats().writesInFlight);
    },
  });
  // Reads that may be behind (`store.replica`): where they went, and each replica's standing.
  new Gauge({
    name: 'agora_store_replica_reads_total',
    help: 'Reads that may be a little behind, by where they went: the primary, or a replica (by name)',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      const routing = store.readRouting();
      if (!routing) return;
      this.set({ target: 'primary' }, routing.primaryReads);
      for (const r of routing.replicas) this.set({ target: r.name }, r.reads);
    },
  });
  new Gauge({
    name: 'agora_replica_lag_seconds',
    help: 'How far each read replica is behind the primary (how long ago the primary was where it is)',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const r of store.readRouting()?.replicas ?? []) this.set({ replica: r.name }, r.lagSeconds);
    },
  });
  new Gauge({
    name: 'agora_replica_healthy',
    help: 'Each read replica: 1 in rotation, 0 out (down, or further behind than AGORA_REPLICA_MAX_LAG_MS)',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const r of store.readRouting()?.replicas ?? []) this.set({ replica: r.name }, r.healthy ? 1 : 0);
    },
  });
  let last: Promise<{ pending: number; oldestAgeMs: number; failed: number }> | null = null;
  // One backlog query per scrape serves the three gauges.
  const read = () => (last ??= backlog().finally(() => setImmediate(() => (last = null))));
  new Gauge({
    name: 'agora_outbox_backlog',
    help: 'Outbox events not yet delivered',
    registers: [registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: 'agora_outbox_oldest_age_seconds',
    help: 'Age of the oldest undelivered outbox event',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestAgeMs / 1000);
    },
  });
  new Gauge({
    name: 'agora_outbox_failed',
    help: 'Outbox events set aside after too many failed attempts',
    registers: [registry],
    async collect() {
      this.set((await read()).failed);
    },
  });
}

/** The memory budget of the in-memory copies: bytes used by each owner, the limit, evictions. */
export function registerMemoryGauges(metrics: Metrics, memory: MemoryBudget): void {
  new Gauge({
    name: 'agora_memory_copies_bytes',
    help: 'Estimated bytes of in-memory copies, by owner (comment trees, listing pages, search results, …)',
    labelNames: ['owner'],
    registers: [metrics.registry],
    collect() {
      for (const [owner, bytes] of memory.usedBy()) this.set({ owner }, bytes);
    },
  });
  new Gauge({
    name: 'agora_memory_budget_bytes',
    help: 'The memory budget of all in-memory copies together (AGORA_MEMORY_BUDGET_MB)',
    registers: [metrics.registry],
    collect() {
      this.set(memory.limit);
    },
  });
  new Gauge({
    name: 'agora_memory_copies_used_bytes',
    help: 'Estimated bytes of all in-memory copies together (at most agora_memory_budget_bytes)',
    registers: [metrics.registry],
    collect() {
      this.set(memory.used);
    },
  });
  let counted = 0;
  new Counter({
    name: 'agora_memory_evictions_total',
    help: 'Copies dropped because the memory budget was full (least recently used first)',
    registers: [metrics.registry],
    collect() {
      this.inc(memory.evictions - counted);
      counted = memory.evictions;
    },
  });
}

/** What the migration metrics read at scrape time. */
interface MigrationFigures {
  rowsPerSecond: number;
  lag: { events: number; ms: number };
  verify: { mismatches: number } | null;
  cutover: { pauseMs: number } | null;
}

/**
 * The live migration's metrics: rows copied and changes applied (counters,
 * told by the migrator), and at scrape time its rate, lag, last verify's
 * mismatches and last write pause. Returns what the migrator calls.
 */
export function registerMigrationMetrics(
  metrics: Metrics,
  status: () => Promise<MigrationFigures>,
): (event: { copied?: number; applied?: number; pauseMs?: number }) => void {
  const registers = [metrics.registry];
  const copied = new Counter({
    name: 'agora_migration_copied_rows_total',
    help: 'Rows copied by the live migration',
    registers,
  });
  const applied = new Counter({
    name: 'agora_migration_applied_changes_total',
    help: 'Captured changes applied to the other store',
    registers,
  });
  let last: Promise<MigrationFigures> | null = null;
  const read = () => (last ??= status().finally(() => setImmediate(() => (last = null))));
  const gauge = (name: string, help: string, value: (s: MigrationFigures) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.set(value(await read()));
      },
    });
  gauge('agora_migration_rows_per_second', 'Rows copied a second (the last five seconds)', (s) => s.rowsPerSecond);
  gauge('agora_migration_lag_events', 'Captured changes not yet applied to the other store', (s) => s.lag.events);
  gauge('agora_migration_lag_seconds', 'Age of the oldest captured change not yet applied', (s) => s.lag.ms / 1000);
  gauge('agora_migration_mismatches', "The last verify's mismatching rows", (s) => s.verify?.mismatches ?? 0);
  gauge(
    'agora_migration_last_pause_seconds',
    "The last cutover's write pause",
    (s) => (s.cutover?.pauseMs ?? 0) / 1000,
  );
  return (event) => {
    if (event.copied) copied.inc(event.copied);
    if (event.applied) applied.inc(event.applied);
  };
}
