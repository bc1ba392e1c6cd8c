import type { FastifyPluginAsync } from 'fastify';
import type { AuthHooks } from '../../platform/http/index.js';
import type { Logger } from '../../platform/log.js';
import type { Registry } from 'prom-client';
import { createDropMetrics } from './metrics.js';
import { dropsRoutes } from './routes.js';
import { webhookRoutes } from './webhook.js';
import { createDropsService, type DropsDeps, type DropsService } from './service.js';

export interface DropsModule {
  service: DropsService;
  routes(auth: AuthHooks): FastifyPluginAsync;
  /** Expires unpaid orders (every sweepMs: their units are back within that) and forgets old idempotency keys. */
  startWorkers(): void;
  stopWorkers(): Promise<void>;
}

export function createDropsModule(
  deps: Omit<DropsDeps, 'metrics'> & {
    log: Logger;
    sweepMs: number;
    webhookSecret: string;
    registry: Registry;
    ordersPerMinute: number;
  },
): DropsModule {
  const service = createDropsService({ ...deps, metrics: createDropMetrics(deps.registry) });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let lastKeySweep = 0;
  const sweep = async () => {
    try {
      while ((await service.expireDue()) > 0);
      if (deps.clock.now() - lastKeySweep > 3600_000) {
        lastKeySweep = deps.clock.now();
        await service.forgetOldKeys();
      }
    } catch (error) {
      deps.log.warn({ err: error }, 'expiring orders failed; will retry');
    }
  };
  return {
    service,
    routes: (auth) => async (app) => {
      await app.register(
        dropsRoutes(service, auth, { ordersPerMinute: deps.ordersPerMinute, now: () => deps.clock.now() }),
      );
      await app.register(webhookRoutes(service, deps.webhookSecret, deps.clock));
    },
    startWorkers() {
      if (timer) return;
      timer = setInterval(() => {
        running ??= sweep().finally(() => (running = null));
      }, deps.sweepMs);
      timer.unref();
    },
    async stopWorkers() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
