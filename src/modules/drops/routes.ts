import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { CommunityName } from '../communities/index.js';
import { AppError } from '../../platform/errors.js';
import {
  clientKey,
  IdParams,
  List,
  Nullable,
  principalOf,
  responses,
  sendJsonText,
  type App,
  type AuthHooks,
} from '../../platform/http/index.js';
import type { DropsService } from './service.js';

const Time = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'epoch milliseconds' });
export const DropSchema = Type.Object({
  id: Type.String(),
  communityName: Type.String(),
  name: Type.String(),
  description: Type.String(),
  stock: Type.Integer(),
  sold: Type.Integer({ description: 'units held by pending and paid orders' }),
  remaining: Type.Integer({ description: 'exact at serverTime' }),
  status: Type.Union(['scheduled', 'live', 'sold_out', 'ended'].map((s) => Type.Literal(s))),
  startsAt: Type.Integer(),
  endsAt: Nullable(Type.Integer()),
  priceCents: Type.Integer(),
  currency: Type.String(),
  perCustomerLimit: Type.Integer(),
  createdAt: Type.Integer(),
  serverTime: Type.Integer(),
});
export const OrderSchema = Type.Object({
  id: Type.String(),
  dropId: Type.String(),
  quantity: Type.Integer(),
  status: Type.Union(['pending', 'paid', 'expired', 'cancelled', 'refunded'].map((s) => Type.Literal(s))),
  amountCents: Type.Integer(),
  currency: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  paymentUrl: Type.String(),
});
const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 25 });
const Cursor = Type.Optional(Type.String({ maxLength: 300 }));

/** Accounts younger than this place orders under their IP address's limit, not their own. */
const NEW_ACCOUNT_MS = 24 * 3600_000;

/** The module's HTTP routes (the webhook's too), given the auth hooks. */
export type DropsRoutes = (auth: AuthHooks) => FastifyPluginAsync;

export function dropsRoutes(
  drops: DropsService,
  auth: AuthHooks,
  limits: { ordersPerMinute: number; now: () => number },
): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const tags = ['drops'];
    const security = [{ bearer: [] }];

    app.post(
      '/api/v1/drops',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Create a drop (site admins and moderators of the community)',
          body: Type.Object({
            communityName: CommunityName,
            name: Type.String({
              minLength: 1,
              maxLength: 200,
              pattern: '^[^\\u0000-\\u001f\\u007f]+$',
              description: 'one line: no control characters',
            }),
            description: Type.Optional(Type.String({ maxLength: 10_000 })),
            stock: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
            priceCents: Type.Integer({ minimum: 0, maximum: 100_000_000_00 }),
            currency: Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 code' }),
            startsAt: Time,
            endsAt: Type.Optional(Time),
            perCustomerLimit: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          }),
          response: responses({ 201: DropSchema }),
        },
      },
      async (request, reply) => reply.code(201).send(await drops.create(request.body, principalOf(request))),
    );

    app.get(
      '/api/v1/drops/:id',
      {
        schema: {
          tags,
          summary: 'A drop with its exact remaining stock (anonymous)',
          params: IdParams,
          response: responses({ 200: DropSchema }),
        },
      },
      (request, reply) => {
        const text = drops.statusText(request.params.id);
        if (typeof text !== 'string') return text.then((json) => void sendJsonText(reply, json));
        sendJsonText(reply, text);
      },
    );

    app.get(
      '/api/v1/drops',
      {
        schema: {
          tags,
          summary: 'Live drops (newest start first) or scheduled ones (soonest first)',
          querystring: Type.Object({
            status: Type.Union([Type.Literal('live'), Type.Literal('scheduled')], { default: 'live' }),
            limit: Limit,
            cursor: Cursor,
          }),
          response: responses({ 200: List(DropSchema) }),
        },
      },
      async (request) => drops.list(request.query),
    );

    app.post(
      '/api/v1/drops/:id/orders',
      {
        onRequest: auth.required,
        config: {
          rateLimit: {
            max: limits.ordersPerMinute,
            timeWindow: 60_000,
            keyGenerator: (request: FastifyRequest) => {
              const p = request.principal;
              return p && limits.now() - p.createdAt >= NEW_ACCOUNT_MS
                ? `orders:a:${p.accountId}`
                : `orders:ip:${clientKey(request.ip)}`;
            },
          },
        },
        schema: {
          tags,
          security,
          summary: 'Reserve units (Idempotency-Key header required: the same key and body get the first answer)',
          params: IdParams,
          headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
          body: Type.Object({ quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }),
          response: responses({ 201: OrderSchema }),
        },
      },
      async (request, reply) => {
        const key = request.headers['idempotency-key'];
        if (typeof key !== 'string' || key.length === 0)
          throw new AppError('missing_idempotency_key', 'an Idempotency-Key header (1–255 characters) is required');
        if (key.length > 255)
          throw new AppError('invalid_request', 'the Idempotency-Key header is longer than 255 characters', {
            field: 'idempotency-key',
          });
        return reply
          .code(201)
          .send(await drops.order(request.params.id, request.body.quantity, key, principalOf(request)));
      },
    );

    app.get(
      '/api/v1/orders/:id',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'An order (its buyer only)',
          params: IdParams,
          response: responses({ 200: OrderSchema }),
        },
      },
      async (request) => drops.getOrder(request.params.id, principalOf(request)),
    );

    app.post(
      '/api/v1/orders/:id/cancellation',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Cancel a pending order (its buyer); the units go back at once',
          params: IdParams,
          response: responses({ 200: OrderSchema }),
        },
      },
      async (request) => drops.cancel(request.params.id, principalOf(request)),
    );

    app.get(
      '/api/v1/me/orders',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: "The signed-in account's orders, newest first",
          querystring: Type.Object({ limit: Limit, cursor: Cursor }),
          response: responses({ 200: List(OrderSchema) }),
        },
      },
      async (request) => drops.myOrders(principalOf(request), request.query),
    );
  };
}
