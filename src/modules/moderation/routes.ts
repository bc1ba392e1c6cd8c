import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { UsernameRef } from '../accounts/index.js';
import { CommunityName } from '../communities/index.js';
import {
  IdParams,
  List,
  Nullable,
  principalOf,
  responses,
  type App,
  type AuthHooks,
} from '../../platform/http/index.js';
import type { ModerationService } from './service.js';

const NameParams = Type.Object({ name: CommunityName });
const Paging = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
const BanSchema = Type.Object({
  username: Type.String(),
  reason: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Nullable(Type.Integer()),
});
/** A report as shown to its reporter and the moderators. */
export const ReportSchema = Type.Object({
  id: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  reason: Type.String(),
  reporter: Type.String(),
  createdAt: Type.Integer(),
});
/** The body of a report or a removal. */
export const ReasonBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) });
const ModlogSchema = Type.Object({
  id: Type.String(),
  action: Type.String(),
  moderator: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  reason: Nullable(Type.String()),
  createdAt: Type.Integer(),
});

/** The module's HTTP routes, given the auth hooks. */
export type ModerationRoutes = (auth: AuthHooks) => FastifyPluginAsync;

export function moderationRoutes(moderation: ModerationService, auth: AuthHooks): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const tags = ['moderation'];
    const security = [{ bearer: [] }];

    app.post(
      '/api/v1/communities/:name/moderators',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Add a moderator (moderators and site admins)',
          params: NameParams,
          body: Type.Object({ username: UsernameRef }),
          response: responses({ 201: Type.Object({ moderators: Type.Array(Type.String()) }) }),
        },
      },
      async (request, reply) =>
        reply.code(201).send({
          moderators: await moderation.addModerator(request.params.name, request.body.username, principalOf(request)),
        }),
    );

    app.delete(
      '/api/v1/communities/:name/moderators/:username',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Remove a moderator',
          params: Type.Object({ name: CommunityName, username: UsernameRef }),
          response: responses({ 204: Type.Null() }),
        },
      },
      async (request, reply) => {
        await moderation.removeModerator(request.params.name, request.params.username, principalOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/communities/:name/bans',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Ban an account from posting, commenting and voting in the community (optionally until expiresAt)',
          params: NameParams,
          body: Type.Object({
            username: UsernameRef,
            reason: Type.String({ minLength: 1, maxLength: 1000 }),
            expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
          }),
          response: responses({ 201: BanSchema }),
        },
      },
      async (request, reply) =>
        reply.code(201).send(await moderation.ban(request.params.name, request.body, principalOf(request))),
    );

    app.get(
      '/api/v1/communities/:name/bans',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Active bans (moderators)',
          params: NameParams,
          response: responses({ 200: Type.Object({ items: Type.Array(BanSchema) }) }),
        },
      },
      async (request) => ({ items: await moderation.bans(request.params.name, principalOf(request)) }),
    );

    app.delete(
      '/api/v1/communities/:name/bans/:username',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Lift a ban',
          params: Type.Object({ name: CommunityName, username: UsernameRef }),
          response: responses({ 204: Type.Null() }),
        },
      },
      async (request, reply) => {
        await moderation.unban(request.params.name, request.params.username, principalOf(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/communities/:name/reports',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Open reports, newest first (moderators)',
          params: NameParams,
          querystring: Paging,
          response: responses({ 200: List(ReportSchema) }),
        },
      },
      async (request) => moderation.reports(request.params.name, request.query, principalOf(request)),
    );

    app.post(
      '/api/v1/reports/:id/resolution',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security,
          summary: 'Mark a report handled (moderators)',
          params: IdParams,
          response: responses({ 204: Type.Null() }),
        },
      },
      async (request, reply) => {
        await moderation.resolveReport(request.params.id, principalOf(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/communities/:name/modlog',
      {
        schema: {
          tags,
          summary: 'The public log of moderator actions, newest first',
          params: NameParams,
          querystring: Paging,
          response: responses({ 200: List(ModlogSchema) }),
        },
      },
      async (request) => moderation.modlog(request.params.name, request.query),
    );
  };
}
