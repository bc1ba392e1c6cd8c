import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { UsernameRef } from '../accounts/index.js';
import { ReasonBody, ReportSchema } from '../moderation/index.js';
import { VoteAnswer, VoteBody, VoteValue } from '../posts/index.js';
import {
  accountLimit,
  Id,
  IdParams,
  List,
  Nullable,
  principalOf,
  responses,
  sendJsonText,
  type App,
  type AuthHooks,
} from '../../platform/http/index.js';
import type { Inbox } from './inbox.js';
import { TREE_DEPTH, TREE_LIMIT, type CommentsService, type TreeQuery } from './service.js';
import { SORTS } from './tree.js';

const commentFields = {
  id: Type.String(),
  postId: Type.String(),
  parentId: Nullable(Type.String()),
  author: Nullable(Type.String()),
  body: Nullable(Type.String()),
  score: Type.Integer(),
  upvotes: Type.Integer(),
  downvotes: Type.Integer(),
  depth: Type.Integer({ description: '0 for a top-level comment' }),
  childCount: Type.Integer({ description: 'Direct replies (deleted ones included: they stay in the tree)' }),
  createdAt: Type.Integer(),
  editedAt: Nullable(Type.Integer()),
  deleted: Type.Boolean(),
  removed: Type.Boolean(),
  myVote: Type.Optional(VoteValue),
};
export const CommentSchema = Type.Object(commentFields);
const Stub = Type.Object({
  parentId: Nullable(
    Type.String({
      description: 'null: continue with GET /posts/:id/comments?cursor=; else GET /comments/:parentId?cursor=',
    }),
  ),
  count: Type.Integer({ description: 'Comments reached by following this stub (and the stubs it leads to)' }),
  cursor: Type.String(),
});
// The tree answers are written as JSON text by the presenter; these schemas document them.
const Reply: TSchema = Type.Object({
  ...commentFields,
  replies: Type.Array(Type.Object({}, { additionalProperties: true })),
});
const Tree = Type.Object({ items: Type.Array(Reply), more: Type.Array(Stub) });
const Subtree = Type.Object({ ...commentFields, replies: Type.Array(Reply), more: Type.Array(Stub) });

const Body = Type.String({ minLength: 1, maxLength: 10_000 });
const TreeQuerySchema = Type.Object({
  sort: Type.Optional(
    Type.Union(
      SORTS.map((s) => Type.Literal(s)),
      { description: 'default best; a cursor carries its own' },
    ),
  ),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: TREE_LIMIT }),
  depth: Type.Integer({
    minimum: 1,
    maximum: 50,
    default: TREE_DEPTH,
    description: 'levels shown: of a post, top-level comments are level 1; of a comment, its replies',
  }),
  cursor: Type.Optional(Type.String({ maxLength: 400 })),
});

export interface CommentLimits {
  commentsPerMinute: number;
  votesPerMinute: number;
  reportsPer10Min: number;
}

/** The module's HTTP routes, given the auth hooks and the per-client limits. */
export type CommentsRoutes = (auth: AuthHooks, limits: CommentLimits) => FastifyPluginAsync;

export function commentsRoutes(
  comments: CommentsService,
  inbox: Inbox,
  auth: AuthHooks,
  limits: CommentLimits,
): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const tags = ['comments'];
    const security = [{ bearer: [] }];

    app.post(
      '/api/v1/posts/:id/comments',
      {
        onRequest: auth.required,
        config: accountLimit(limits.commentsPerMinute, 60_000),
        schema: {
          tags,
          security,
          summary: 'Comment on a post, or reply to one of its comments (parentId)',
          params: IdParams,
          body: Type.Object({ body: Body, parentId: Type.Optional(Id) }),
          response: responses({ 201: CommentSchema }),
        },
      },
      async (request, reply) =>
        reply.code(201).send(await comments.create(request.params.id, request.body, principalOf(request))),
    );

    app.get(
      '/api/v1/posts/:id/comments',
      {
        onRequest: auth.optional,
        schema: {
          tags,
          summary:
            "A post's comment tree: the best `limit` comments by the sort over the whole tree, `depth` levels; the rest as `more` stubs",
          params: IdParams,
          querystring: TreeQuerySchema,
          response: responses({ 200: Tree }),
        },
      },
      async (request, reply) =>
        sendJsonText(reply, await comments.tree(request.params.id, request.query as TreeQuery, request.principal)),
    );

    app.get(
      '/api/v1/comments/:id',
      {
        onRequest: auth.optional,
        schema: {
          tags,
          summary: "A comment with its subtree (continue this thread; with a stub's cursor, load more replies)",
          params: IdParams,
          querystring: TreeQuerySchema,
          response: responses({ 200: Subtree }),
        },
      },
      async (request, reply) =>
        sendJsonText(reply, await comments.subtree(request.params.id, request.query as TreeQuery, request.principal)),
    );

    app.patch(
      '/api/v1/comments/:id',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Edit the body (author only)',
          params: IdParams,
          body: Type.Object({ body: Body }),
          response: responses({ 200: CommentSchema }),
        },
      },
      async (request) => comments.edit(request.params.id, request.body, principalOf(request)),
    );

    app.delete(
      '/api/v1/comments/:id',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Delete (author only; the node stays with its replies)',
          params: IdParams,
          response: responses({ 204: Type.Null() }),
        },
      },
      async (request, reply) => {
        await comments.remove(request.params.id, principalOf(request));
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/api/v1/comments/:id/vote',
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
      async (request) => comments.vote(request.params.id, request.body.value, principalOf(request)),
    );

    app.post(
      '/api/v1/comments/:id/removal',
      {
        onRequest: auth.required,
        schema: {
          tags: ['moderation'],
          security,
          summary: 'Remove a comment with a reason (moderators); it stays in the tree without its body',
          params: IdParams,
          body: ReasonBody,
          response: responses({ 200: CommentSchema }),
        },
      },
      async (request) => comments.removeAsModerator(request.params.id, request.body.reason, principalOf(request)),
    );

    app.delete(
      '/api/v1/comments/:id/removal',
      {
        onRequest: auth.required,
        schema: {
          tags: ['moderation'],
          security,
          summary: 'Restore a removed comment (moderators)',
          params: IdParams,
          response: responses({ 200: CommentSchema }),
        },
      },
      async (request) => comments.restoreAsModerator(request.params.id, principalOf(request)),
    );

    app.post(
      '/api/v1/comments/:id/reports',
      {
        onRequest: auth.required,
        config: accountLimit(limits.reportsPer10Min, 600_000),
        schema: {
          tags: ['moderation'],
          security,
          summary: "Report a comment to its community's moderators (once per account)",
          params: IdParams,
          body: ReasonBody,
          response: responses({ 201: ReportSchema }),
        },
      },
      async (request, reply) =>
        reply.code(201).send(await comments.report(request.params.id, request.body.reason, principalOf(request))),
    );

    app.get(
      '/api/v1/accounts/:username/comments',
      {
        onRequest: auth.optional,
        schema: {
          tags,
          summary: "A user's comments, newest first",
          params: Type.Object({ username: UsernameRef }),
          querystring: Type.Object({
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
            cursor: Type.Optional(Type.String({ maxLength: 300 })),
          }),
          response: responses({ 200: List(CommentSchema) }),
        },
      },
      async (request) => comments.byAuthor(request.params.username, request.query, request.principal),
    );

    app.get(
      '/api/v1/me/inbox',
      {
        onRequest: auth.required,
        schema: {
          tags: ['inbox'],
          security,
          summary: 'Replies to your comments and mentions of you (u/name), newest first',
          querystring: Type.Object({
            unread: Type.Boolean({ default: false, description: 'only unread items' }),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
            cursor: Type.Optional(Type.String({ maxLength: 300 })),
          }),
          response: responses({
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  id: Type.String(),
                  type: Type.Union([Type.Literal('reply'), Type.Literal('mention')]),
                  read: Type.Boolean(),
                  createdAt: Type.Integer(),
                  comment: CommentSchema,
                }),
              ),
              unreadCount: Type.Integer(),
              nextCursor: Nullable(Type.String()),
            }),
          }),
        },
      },
      async (request) => inbox.list(request.query, principalOf(request)),
    );

    app.post(
      '/api/v1/me/inbox/read',
      {
        onRequest: auth.required,
        schema: {
          tags: ['inbox'],
          security,
          summary: 'Mark inbox items read: the given ids, or every unread item when ids is left out',
          body: Type.Object({ ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 500 })) }),
          response: responses({ 204: Type.Null() }),
        },
      },
      async (request, reply) => {
        await inbox.markRead(request.body.ids, principalOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
