import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { AppError } from '../errors.js';
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';
import type { App } from './server.js';

export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

/**
 * /healthz (process up), /readyz (store reachable, schema current: one
 * read, nothing written), /metrics (Prometheus; only with the bearer token
 * `metricsToken` — with none set, it is not served).
 */
export function opsRoutes(
  metrics: Metrics,
  readiness: () => Promise<Readiness>,
  metricsToken: string,
): FastifyPluginAsync {
  const expected = createHash('sha256').update(`Bearer ${metricsToken}`).digest();
  const allowed = (header: string | undefined) =>
    metricsToken !== '' &&
    header !== undefined &&
    timingSafeEqual(createHash('sha256').update(header).digest(), expected);
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
    app.get('/metrics', { config: noLimit, schema: { hide: true } }, async (request, reply) => {
      if (!allowed(request.headers.authorization)) {
        if (metricsToken === '')
          throw new AppError('not_found', '/metrics is served only with AGORA_METRICS_TOKEN set');
        throw new AppError('unauthenticated', '/metrics needs the bearer token AGORA_METRICS_TOKEN');
      }
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    });
  };
}
