import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { List, principalOf, responses, type App, type AuthHooks } from '../../platform/http/index.js';
import type { CommunitiesService } from './service.js';

export const CommunityName = Type.String({ pattern: '^[A-Za-z0-9_]{3,21}$', description: '3–21 of A–Z, a–z, 0–9, _' });
export const CommunitySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  title: Type.String(),
  description: Type.String(),
  subscriberCount: Type.Integer(),
  createdAt: Type.Integer(),
  moderators: Type.Array(Type.String()),
  subscribed: Type.Optional(Type.Boolean()),
});
const NameParams = Type.Object({ name: CommunityName });

/** The module's HTTP routes, given the auth hooks. */
export type CommunitiesRoutes = (auth: AuthHooks) => FastifyPluginAsync;

export function communitiesRoutes(communities: CommunitiesService, auth: AuthHooks): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const tags = ['communities'];
    const bearer = [{ bearer: [] }];

    app.post(
      '/api/v1/communities',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security: bearer,
          summary: 'Create a community (the creator becomes its first moderator)',
          body: Type.Object({
            name: CommunityName,
            title: Type.String({ minLength: 1, maxLength: 100 }),
            description: Type.Optional(Type.String({ maxLength: 10_000 })),
          }),
          response: responses({ 201: CommunitySchema }),
        },
      },
      async (request, reply) => reply.code(201).send(await communities.create(request.body, principalOf(request))),
    );

    app.get(
      '/api/v1/communities',
      {
        onRequest: auth.optional,
        schema: {
          tags,
          summary: 'List communities: popular (by subscribers) or new',
          querystring: Type.Object({
            sort: Type.Union([Type.Literal('popular'), Type.Literal('new')], { default: 'popular' }),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          }),
          response: responses({ 200: List(CommunitySchema) }),
        },
      },
      async (request) => communities.list(request.query, request.principal),
    );

    app.get(
      '/api/v1/communities/:name',
      {
        onRequest: auth.optional,
        schema: { tags, summary: 'A community', params: NameParams, response: responses({ 200: CommunitySchema }) },
      },
      async (request) => communities.get(request.params.name, request.principal),
    );

    for (const [method, on] of [
      ['PUT', true],
      ['DELETE', false],
    ] as const) {
      app.route({
        method,
        url: '/api/v1/communities/:name/subscription',
        onRequest: auth.required,
        schema: {
          tags,
          security: bearer,
          summary: on ? 'Subscribe (idempotent)' : 'Unsubscribe (idempotent)',
          params: NameParams,
          response: responses({ 204: Type.Null() }),
        },
        handler: async (request, reply) => {
          const { name } = request.params as { name: string };
          const accountId = principalOf(request).accountId;
          await (on ? communities.subscribe(name, accountId) : communities.unsubscribe(name, accountId));
          return reply.code(204).send(null);
        },
      });
    }
  };
}
