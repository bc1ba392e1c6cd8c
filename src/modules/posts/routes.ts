import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { UsernameRef } from '../accounts/index.js';
import { CommunityName } from '../communities/index.js';
import { ReasonBody, ReportSchema } from '../moderation/index.js';
import {
  accountLimit,
  createSerializeOnce,
  IdParams,
  List,
  Nullable,
  principalOf,
  responses,
  type App,
  type AuthHooks,
} from '../../platform/http/index.js';
import type { Post } from './presenter.js';
import { PAGE_SIZE } from './listings.js';
import type { PostsService } from './service.js';

export const VoteValue = Type.Union([Type.Literal(1), Type.Literal(0), Type.Literal(-1)]);
/** A vote on a post or a comment, and its answer. */
export const VoteBody = Type.Object({ value: VoteValue });
export const VoteAnswer = Type.Object({
  score: Type.Integer(),
  upvotes: Type.Integer(),
  downvotes: Type.Integer(),
  myVote: VoteValue,
});
export const PostSchema = Type.Object({
  id: Type.String(),
  communityName: Type.String(),
  author: Nullable(Type.String()),
  title: Type.String(),
  body: Nullable(Type.String()),
  url: Nullable(Type.String()),
  score: Type.Integer(),
  upvotes: Type.Integer(),
  downvotes: Type.Integer(),
  commentCount: Type.Integer(),
  createdAt: Type.Integer(),
  editedAt: Nullable(Type.Integer()),
  locked: Type.Boolean(),
  removed: Type.Boolean(),
  deleted: Type.Boolean(),
  removalReason: Type.Optional(Nullable(Type.String())),
  myVote: Type.Optional(VoteValue),
});
const Limit = Type.Integer({ minimum: 1, maximum: 100, default: PAGE_SIZE });
const Cursor = Type.Optional(Type.String({ maxLength: 300 }));
const Window = Type.Union(
  ['hour', 'day', 'week', 'month', 'year', 'all'].map((t) => Type.Literal(t)),
  { default: 'all' },
);
const Body = Type.String({ maxLength: 40_000 });

export interface PostLimits {
  postsPer10Min: number;
  votesPerMinute: number;
  reportsPer10Min: number;
}

/** The module's HTTP routes, given the auth hooks and the per-client limits. */
export type PostsRoutes = (auth: AuthHooks, limits: PostLimits) => FastifyPluginAsync;

export function postsRoutes(posts: PostsService, auth: AuthHooks, limits: PostLimits): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const tags = ['posts'];
    const security = [{ bearer: [] }];
    const noContent = responses({ 204: Type.Null() });
    const sendPage = createSerializeOnce();

    app.post(
      '/api/v1/communities/:name/posts',
      {
        onRequest: auth.required,
        config: accountLimit(limits.postsPer10Min, 600_000),
        schema: {
          tags,
          security,
          summary: 'Create a text or link post',
          params: Type.Object({ name: CommunityName }),
          body: Type.Object({
            title: Type.String({ minLength: 1, maxLength: 300 }),
            body: Type.Optional(Body),
            url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 })),
          }),
          response: responses({ 201: PostSchema }),
        },
      },
      async (request, reply) =>
        reply.code(201).send(await posts.create(request.params.name, request.body, principalOf(request))),
    );

    app.get(
      '/api/v1/communities/:name/posts',
      {
        onRequest: auth.optional,
        schema: {
          tags,
          summary: "A community's posts: hot, new, top or controversial (t: time window of top/controversial)",
          params: Type.Object({ name: CommunityName }),
          querystring: Type.Object({
            sort: Type.Union(
              [Type.Literal('hot'), Type.Literal('new'), Type.Literal('top'), Type.Literal('controversial')],
              { default: 'hot' },
            ),
            t: Window,
            limit: Limit,
            cursor: Cursor,
          }),
          response: responses({ 200: List(PostSchema) }),
        },
      },
      async (request, reply) =>
        sendPage(
          reply,
          await posts.community(
            request.params.name,
            request.query as Parameters<PostsService['community']>[1],
            request.principal,
          ),
        ),
    );

    app.get(
      '/api/v1/feed',
      {
        onRequest: auth.optional,
        schema: {
          tags,
          summary: 'Signed in: posts of subscribed communities; anonymous: all communities',
          querystring: Type.Object({
            sort: Type.Union([Type.Literal('hot'), Type.Literal('new'), Type.Literal('top')], { default: 'hot' }),
            t: Window,
            limit: Limit,
            cursor: Cursor,
          }),
          response: responses({ 200: List(PostSchema) }),
        },
      },
      async (request, reply) =>
        sendPage(reply, await posts.feed(request.query as Parameters<PostsService['feed']>[0], request.principal)),
    );

    app.get(
      '/api/v1/accounts/:username/posts',
      {
        onRequest: auth.optional,
        schema: {
          tags,
          summary: "A user's posts, newest first",
          params: Type.Object({ username: UsernameRef }),
          querystring: Type.Object({ limit: Limit, cursor: Cursor }),
          response: responses({ 200: List(PostSchema) }),
        },
      },
      async (request) => posts.byAuthor(request.params.username, request.query, request.principal),
    );

    app.get(
      '/api/v1/posts/:id',
      {
        onRequest: auth.optional,
        schema: { tags, summary: 'A post', params: IdParams, response: responses({ 200: PostSchema }) },
      },
      async (request) => posts.get(request.params.id, request.principal),
    );

    app.patch(
      '/api/v1/posts/:id',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Edit the body (author only)',
          params: IdParams,
          body: Type.Object({ body: Body }),
          response: responses({ 200: PostSchema }),
        },
      },
      async (request) => posts.edit(request.params.id, request.body, principalOf(request)),
    );

    app.delete(
      '/api/v1/posts/:id',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Delete (author only; the shell stays)',
          params: IdParams,
          response: noContent,
        },
      },
      async (request, reply) => {
        await posts.remove(request.params.id, principalOf(request));
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/api/v1/posts/:id/vote',
      {
        onRequest: auth.required,
        config: accountLimit(limits.votesPerMinute, 60_000),
        schema: {
          tags,
          security,
          summary: 'Vote: 1 up, -1 down, 0 clears (idempotent)',
          params: IdParams,
          body: VoteBody,
          response: responses({ 200: VoteAnswer }),
        },
      },
      async (request) => posts.vote(request.params.id, request.body.value, principalOf(request)),
    );

    const modRoute = (
      path: string,
      method: 'POST' | 'DELETE',
      summary: string,
      act: (id: string, reason: string, request: Parameters<typeof principalOf>[0]) => Promise<Post>,
      withReason = false,
    ) =>
      app.route({
        method,
        url: path,
        onRequest: auth.required,
        schema: {
          tags: ['moderation'],
          security,
          summary,
          params: IdParams,
          ...(withReason ? { body: ReasonBody } : {}),
          response: responses({ 200: PostSchema }),
        },
        handler: async (request) =>
          act(
            (request.params as { id: string }).id,
            (request.body as { reason?: string } | undefined)?.reason ?? '',
            request,
          ),
      });
    modRoute(
      '/api/v1/posts/:id/removal',
      'POST',
      'Remove a post with a reason (moderators)',
      (id, reason, r) => posts.removeAsModerator(id, reason, principalOf(r)),
      true,
    );
    modRoute('/api/v1/posts/:id/removal', 'DELETE', 'Restore a removed post (moderators)', (id, _reason, r) =>
      posts.restoreAsModerator(id, principalOf(r)),
    );
    modRoute('/api/v1/posts/:id/lock', 'POST', 'Lock a post: no new comments (moderators)', (id, _reason, r) =>
      posts.setLocked(id, true, principalOf(r)),
    );
    modRoute('/api/v1/posts/:id/lock', 'DELETE', 'Unlock a post (moderators)', (id, _reason, r) =>
      posts.setLocked(id, false, principalOf(r)),
    );

    app.post(
      '/api/v1/posts/:id/reports',
      {
        onRequest: auth.required,
        config: accountLimit(limits.reportsPer10Min, 600_000),
        schema: {
          tags: ['moderation'],
          security,
          summary: "Report a post to its community's moderators (once per account)",
          params: IdParams,
          body: ReasonBody,
          response: responses({ 201: ReportSchema }),
        },
      },
      async (request, reply) =>
        reply.code(201).send(await posts.report(request.params.id, request.body.reason, principalOf(request))),
    );
  };
}
