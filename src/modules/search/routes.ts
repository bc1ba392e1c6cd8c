import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { responses, type App, type AuthHooks } from '../../platform/http/index.js';
import { SEARCH_PAGE, type SearchService } from './service.js';

/** The module's HTTP routes, given the auth hooks. */
export type SearchRoutes = (auth: AuthHooks) => FastifyPluginAsync;

export function searchRoutes(search: SearchService, auth: AuthHooks): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    app.get(
      '/api/v1/search',
      {
        onRequest: auth.optional,
        schema: {
          tags: ['search'],
          summary:
            'Full-text search (stemmed, prefix matching), ranked by relevance; deleted and removed items never appear',
          querystring: Type.Object({
            q: Type.String({ maxLength: 512 }),
            type: Type.Union([Type.Literal('posts'), Type.Literal('comments'), Type.Literal('communities')], {
              default: 'posts',
            }),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: SEARCH_PAGE }),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          }),
          response: responses({
            200: Type.Object({ items: Type.Array(Type.Any()), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          }),
        },
      },
      async (request) => search.search(request.query, request.principal),
    );
  };
}
