import AjvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import type { Metrics } from '../metrics.js';
import { AppError } from '../errors.js';
import { afterWrites } from '../turn.js';
import { ErrorBody } from './schemas.js';
import { clientErrorHandler, errorHandler, notFoundHandler } from './errors.js';

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface HttpOptions {
  log: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  trustProxy: boolean;
  rateLimit: { enabled: boolean; perIpPerMinute: number; perAccountPerMinute: number };
  version: string;
}

/** Per-route limit for abuse-prone anonymous writes (sign-up, sign-in), keyed by IP. */
export function ipLimit(max: number, timeWindowMs: number) {
  return { rateLimit: { max, timeWindow: timeWindowMs, keyGenerator: (req: { ip: string }) => `ip:${req.ip}` } };
}

/**
 * The path of the first string holding a NUL character, or of the first
 * number that is not finite, or null. JSON.parse reads 1e309 as Infinity,
 * and Ajv's coercion lets "1e309" through integer and maximum checks.
 */
function findNulOrInfinite(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const key in value) {
    if (key.includes('\u0000')) return path;
    const found = findNulOrInfinite((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

type Validate = ((data: unknown, context?: { parentData: object; parentDataProperty: string }) => unknown) & { errors?: unknown; schemaEnv?: unknown };

/**
 * Fastify's own Ajv validators, each followed by one walk of the validated
 * (coerced) value: PostgreSQL cannot store NUL characters in text (SQLite
 * can), so they are refused in every input and both stores behave the same;
 * numbers out of range are refused too. Done inside validation rather than
 * in request hooks, which every request would pay for.
 */
const ajvValidators = AjvCompiler();
const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'params' };
function buildValidatorWith(...args: Parameters<typeof ajvValidators>) {
  const build = ajvValidators(...args) as unknown as (route: FastifyRouteSchemaDef<unknown>) => Validate;
  return (route: FastifyRouteSchemaDef<unknown>) => {
    const validate = build(route);
    const part = PART_NAMES[route.httpPart ?? ''];
    if (!part) return validate;
    const checked: Validate = (data, context) => {
      const ok = validate(data, context);
      checked.errors = validate.errors;
      if (ok === false) return false;
      const where = findNulOrInfinite(context ? (context.parentData as Record<string, unknown>)[context.parentDataProperty] : data, part);
      if (!where) return true;
      const field = where.split('.').slice(1).join('.') || where;
      return { error: new AppError('invalid_request', `${where} must not contain NUL characters or numbers out of range`, { field }) };
    };
    checked.schemaEnv = validate.schemaEnv;
    return checked;
  };
}
const buildValidator = buildValidatorWith as unknown as ValidatorFactory;

/** Per-route limit for writes by signed-in accounts (posts, votes, reports), keyed by account. */
export function accountLimit(max: number, timeWindowMs: number) {
  return {
    rateLimit: {
      max,
      timeWindow: timeWindowMs,
      keyGenerator: (req: { ip: string; principal: { accountId: string } | null }) => (req.principal ? `a:${req.principal.accountId}` : `ip:${req.ip}`),
    },
  };
}

/**
 * Builds the Fastify app (without listening): error shape, validation,
 * rate limits, OpenAPI at /docs, request metrics. Modules add their routes
 * as plugins under /api/v1.
 */
export async function createHttpApp(options: HttpOptions, plugins: FastifyPluginAsync[]): Promise<App> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (a measurable cost on hot routes): the few
    // request logs (errors) name the request id themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: options.bodyLimitBytes,
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    clientErrorHandler,
    // Errors Fastify raises before routing (a malformed URL) get the same shape.
    frameworkErrors: errorHandler,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: true, useDefaults: true, allErrors: false } },
    schemaController: { compilersFactory: { buildValidator } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.decorateRequest('principal', null);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addSchema(ErrorBody);

  // During shutdown, answers to in-flight requests close their connection,
  // so that keep-alive sockets do not hold the server open.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // Reads run after the writes of their event-loop turn have committed (turn.ts).
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD') afterWrites(done);
    else done();
  });

  // One histogram child per (method, route, status), looked up once.
  const histograms = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = histograms.get(key);
    if (!child) {
      child = options.metrics.httpDuration.labels(request.method, route, String(reply.statusCode));
      histograms.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Agora API', version: options.version, description: 'The Agora HTTP API v1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  if (options.rateLimit.enabled) {
    const { perIpPerMinute, perAccountPerMinute } = options.rateLimit;
    await app.register(fastifyRateLimit, {
      global: true,
      // After the auth hook (onRequest), so signed-in requests count per account.
      hook: 'preHandler',
      timeWindow: 60_000,
      max: (request) => (request.principal ? perAccountPerMinute : perIpPerMinute),
      keyGenerator: (request) => (request.principal ? `a:${request.principal.accountId}` : `ip:${request.ip}`),
    });
  }

  for (const plugin of plugins) await app.register(plugin);
  return app;
}
