import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';
import type { App } from './server.js';

export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

/** /healthz (process up), /readyz (store reachable, schema current), /metrics (Prometheus). */
export function opsRoutes(metrics: Metrics, readiness: () => Promise<Readiness>): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const noLimit = { rateLimit: false } as const;
    app.get(
      '/healthz',
      { config: noLimit, schema: { hide: true, response: { 200: Type.Object({ status: Type.String() }) } } },
      async () => ({ status: 'ok' }),
    );
    app.get(
      '/readyz',
      {
        config: noLimit,
        schema: {
          hide: true,
          response: {
            200: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) }),
            503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) }),
          },
        },
      },
      async (_request, reply) => {
        const r = await readiness();
        return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not_ready', checks: r.checks });
      },
    );
    app.get('/metrics', { config: noLimit, schema: { hide: true } }, async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    });
  };
}
