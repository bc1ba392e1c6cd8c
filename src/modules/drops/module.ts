import type { Logger } from '../../platform/log.js';
import { pick } from '../../platform/pick.js';
import type { Registry } from 'prom-client';
import { createDropMetrics } from './metrics.js';
import { dropsRoutes, type DropsRoutes } from './routes.js';
import { webhookRoutes } from './webhook-routes.js';
import { createDropsService, type DropsDeps, type DropsService } from './service.js';

/** What the rest of Agora may ask of drops; the rest is behind the routes. */
export interface DropsModule {
  /** What an order's e-mails say (notifications). */
  orderSummary: DropsService['orderSummary'];
  /** For the web pages: a drop's status (the JSON text of `GET /drops/:id`), its stock changes, ordering. */
  statusText: DropsService['statusText'];
  watchSold: DropsService['watchSold'];
  list: DropsService['list'];
  order: DropsService['order'];
  getOrder: DropsService['getOrder'];
  myOrders: DropsService['myOrders'];
  cancel: DropsService['cancel'];
  routes: DropsRoutes;
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
  let stop: (() => void) | null = null;
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
    ...pick(service, ['orderSummary', 'statusText', 'watchSold', 'list', 'order', 'getOrder', 'myOrders', 'cancel']),
    routes: (auth) => async (app) => {
      await app.register(
        dropsRoutes(service, auth, { ordersPerMinute: deps.ordersPerMinute, now: () => deps.clock.now() }),
      );
      await app.register(webhookRoutes(service, deps.webhookSecret, deps.clock));
    },
    startWorkers() {
      stop ??= deps.clock.every(deps.sweepMs, () => (running ??= sweep().finally(() => (running = null))));
    },
    async stopWorkers() {
      stop?.();
      stop = null;
      await running;
    },
  };
}
