import AjvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
} from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import type { Metrics } from '../metrics.js';
import { AppError } from '../errors.js';
import { afterWrites } from '../turn.js';
import type { Store } from '../store/index.js';
import { registerReadPositions } from './positions.js';
import { ErrorBody } from './schemas.js';
import { clientErrorHandler, errorHandler, notFoundHandler } from './errors.js';

/** A body over the limit is still read (and dropped) up to this many times the limit, or DRAIN_MIN_BYTES. */
const DRAIN_FACTOR = 4;
const DRAIN_MIN_BYTES = 1024 * 1024;

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface HttpOptions {
  log: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges); empty: none. */
  trustProxy: string[];
  rateLimit: { enabled: boolean; perIpPerMinute: number; perAccountPerMinute: number };
  version: string;
  /** With read replicas: the store whose write positions route each request's reads (`positions.ts`). */
  readPositions?: Store;
}

/**
 * The client a request counts against when it is not signed in: its IPv4
 * address, or the /64 network of an IPv6 address (one subscriber gets a
 * whole /64 and can use any address in it).
 */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/**
 * Hits per key in fixed windows. At most `maxKeys` keys are tracked in a
 * window (memory stays bounded however many addresses send); the window's
 * counts start again at zero when it ends.
 */
function createWindowCounter(windowMs: number, maxKeys: number) {
  let counts = new Map<string, number>();
  let ends = 0;
  const current = () => {
    const now = Date.now();
    if (now >= ends) {
      counts = new Map();
      ends = now + windowMs;
    }
    return counts;
  };
  return {
    count: (key: string) => current().get(key) ?? 0,
    hit(key: string) {
      const map = current();
      const n = map.get(key);
      if (n !== undefined) map.set(key, n + 1);
      else if (map.size < maxKeys) map.set(key, 1);
    },
  };
}

/** Per-route limit for abuse-prone anonymous writes (sign-up, sign-in), keyed by IP. */
export function ipLimit(max: number, timeWindowMs: number) {
  return {
    rateLimit: { max, timeWindow: timeWindowMs, keyGenerator: (req: { ip: string }) => `ip:${clientKey(req.ip)}` },
  };
}

/**
 * The path of the first string holding a NUL character or a lone UTF-16
 * surrogate (no UTF-8 can hold it: each store would store something else), or of the first
 * number that is not finite, or null. JSON.parse reads 1e309 as Infinity,
 * and Ajv's coercion lets "1e309" through integer and maximum checks.
 */
function findNulOrInfinite(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') || LONE_SURROGATE.test(value) ? path : null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const key in value) {
    if (key.includes('\u0000')) return path;
    const found = findNulOrInfinite((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

/** With the `u` flag a surrogate matches only when it is not half of a pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

type Validate = ((data: unknown, context?: { parentData: object; parentDataProperty: string }) => unknown) & {
  errors?: unknown;
  schemaEnv?: unknown;
};

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
      const where = findNulOrInfinite(
        context ? (context.parentData as Record<string, unknown>)[context.parentDataProperty] : data,
        part,
      );
      if (!where) return true;
      const field = where.split('.').slice(1).join('.') || where;
      return {
        error: new AppError(
          'invalid_request',
          `${where} must not contain NUL characters, lone surrogates or numbers out of range`,
          { field },
        ),
      };
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
      keyGenerator: (req: { ip: string; principal: { accountId: string } | null }) =>
        req.principal ? `a:${req.principal.accountId}` : `ip:${clientKey(req.ip)}`,
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
    trustProxy: options.trustProxy.length > 0 ? options.trustProxy : false,
    return503OnClosing: true,
    clientErrorHandler,
    // Errors Fastify raises before routing (a malformed URL) get the same shape.
    frameworkErrors: errorHandler,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: true, useDefaults: true, allErrors: false } },
    schemaController: { compilersFactory: { buildValidator } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.decorateRequest('principal', null);
  app.decorateRequest('passedLimiter', false);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addSchema(ErrorBody);

  // During shutdown, answers to in-flight requests close their connection,
  // so that keep-alive sockets do not hold the server open; a connection with
  // no request in flight (one that never sent any, say) is closed at once —
  // Node's own close counts only those that finished a request as idle, and
  // would wait the keep-alive timeout for the others.
  let closing = false;
  const inFlight = new Map<Socket, number>();
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    // A socket closed first (the client went away mid-request) is already forgotten: not put back.
    response.once('close', () => {
      const requests = inFlight.get(socket);
      if (requests !== undefined) inFlight.set(socket, requests - 1);
    });
  });
  app.server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  app.addHook('preClose', async () => {
    closing = true;
    setImmediate(() => {
      for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
    });
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // A read's body in pieces goes out as they are: corked, the socket takes them in one writev,
  // so a page of 250 KB is not copied into one buffer first. The reply leaves Fastify's send
  // (hijacked), so what the onSend hooks add to a read's answer is added here; a write's answer
  // goes through them (its read position), joined.
  app.decorateReply('sendParts', function (this: FastifyReply, parts: Buffer[]) {
    if (this.request.method !== 'GET' && this.request.method !== 'HEAD') return this.send(Buffer.concat(parts));
    let length = 0;
    for (const part of parts) length += part.length;
    this.hijack();
    const response = this.raw;
    for (const [name, value] of Object.entries(this.getHeaders()))
      if (value !== undefined) response.setHeader(name, value);
    response.setHeader('content-length', length);
    if (closing) response.setHeader('connection', 'close');
    response.writeHead(this.statusCode);
    response.cork();
    for (const part of parts) response.write(part);
    response.end();
    return this;
  });

  // A body over the limit is read to its end and dropped before the 413, so
  // the connection stays open: a reverse proxy still writing the body would
  // see a closed connection reset under it and answer 502 in Agora's place.
  // Far over the limit (more than DRAIN_FACTOR times it), the 413 goes at
  // once and the connection is closed, as Fastify does for every size.
  const drainLimit = Math.max(DRAIN_FACTOR * options.bodyLimitBytes, DRAIN_MIN_BYTES);
  app.addHook('onRequest', (request, reply, done) => {
    const length = Number(request.headers['content-length']);
    if (!(length > options.bodyLimitBytes)) return done();
    const error = new AppError('payload_too_large', `Request body is larger than ${options.bodyLimitBytes} bytes`);
    if (length > drainLimit) {
      reply.header('connection', 'close');
      return done(error);
    }
    const body = request.raw;
    let answered = false;
    const answer = () => {
      if (answered) return;
      answered = true;
      done(error);
    };
    body.once('end', answer);
    body.once('close', answer);
    body.resume();
  });

  // Reads run after the writes of their event-loop turn have committed (turn.ts).
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD') afterWrites(done);
    else done();
  });

  // After the turn's writes: each request's reads routed by its last write's position.
  if (options.readPositions) registerReadPositions(app, options.readPositions);

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
    // Requests refused before the limiter's turn (an unknown bearer token, a
    // query or body failing validation, no such route) count against their
    // address too, in a window of their own: once it is full, that address
    // is answered 429 before any work.
    const failures = createWindowCounter(60_000, 200_000);
    app.addHook('onRequest', (request, _reply, done) => {
      // Routes without a limit (the operations routes) stay open.
      const exempt = (request.routeOptions.config as { rateLimit?: unknown } | undefined)?.rateLimit === false;
      if (!exempt && failures.count(clientKey(request.ip)) >= perIpPerMinute)
        done(new AppError('rate_limited', 'too many failed requests from this address: slow down'));
      else done();
    });
    app.addHook('preHandler', (request, _reply, done) => {
      request.passedLimiter = true;
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      const status = reply.statusCode;
      if (!request.passedLimiter && status >= 400 && status < 500 && status !== 429)
        failures.hit(clientKey(request.ip));
      done();
    });
    await app.register(fastifyRateLimit, {
      global: true,
      // After the auth hook (onRequest), so signed-in requests count per account.
      hook: 'preHandler',
      timeWindow: 60_000,
      max: (request) => (request.principal ? perAccountPerMinute : perIpPerMinute),
      keyGenerator: (request) =>
        request.principal ? `a:${request.principal.accountId}` : `ip:${clientKey(request.ip)}`,
    });
  }

  for (const plugin of plugins) await app.register(plugin);
  return app;
}
