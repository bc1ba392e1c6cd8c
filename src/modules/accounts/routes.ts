import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ipLimit, principalOf, responses, type App, type AuthHooks } from '../../platform/http/index.js';
import type { AccountsService } from './service.js';

export const Username = Type.String({ pattern: '^[A-Za-z0-9_]{3,20}$', description: '3–20 of A–Z, a–z, 0–9, _' });
/** The name of an existing account: also imported ones, whose names may hold `-` (Reddit's). */
export const UsernameRef = Type.String({ pattern: '^[A-Za-z0-9_-]{3,20}$', description: 'an account name' });
const Password = Type.String({ minLength: 8, maxLength: 128 });
const Karma = Type.Object({ post: Type.Integer(), comment: Type.Integer() });

export const AccountSchema = Type.Object(
  { id: Type.String(), username: Type.String(), createdAt: Type.Integer(), karma: Karma },
  { $id: 'Account' },
);
const OwnAccountSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  createdAt: Type.Integer(),
  karma: Karma,
  email: Type.Union([Type.String(), Type.Null()]),
  isAdmin: Type.Boolean(),
});
const Created = Type.Object({ id: Type.String(), username: Type.String(), createdAt: Type.Integer() });
const SessionSchema = Type.Object({ token: Type.String(), expiresAt: Type.Integer(), account: AccountSchema });

export interface AccountsRouteLimits {
  signupsPerHourPerIp: number;
  loginsPerMinutePerIp: number;
}

/** The module's HTTP routes, given the auth hooks. */
export type AccountsRoutes = (auth: AuthHooks) => FastifyPluginAsync;

/** HTTP for accounts and sessions: schema -> auth -> service -> presenter. */
export function accountsRoutes(
  accounts: AccountsService,
  auth: AuthHooks,
  limits: AccountsRouteLimits,
): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const tags = ['accounts'];
    const bearer = [{ bearer: [] }];

    app.post(
      '/api/v1/accounts',
      {
        config: ipLimit(limits.signupsPerHourPerIp, 3600_000),
        schema: {
          tags,
          summary: 'Create an account',
          body: Type.Object({
            username: Username,
            password: Password,
            email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
          }),
          response: responses({ 201: Created }),
        },
      },
      async (request, reply) => {
        const account = await accounts.register(request.body);
        return reply.code(201).send({ id: account.id, username: account.username, createdAt: account.createdAt });
      },
    );

    app.post(
      '/api/v1/sessions',
      {
        config: ipLimit(limits.loginsPerMinutePerIp, 60_000),
        schema: {
          tags,
          summary: 'Sign in: returns a bearer token',
          body: Type.Object({
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 128 }),
          }),
          response: responses({ 201: SessionSchema }),
        },
      },
      async (request, reply) => reply.code(201).send(await accounts.login(request.body)),
    );

    app.delete(
      '/api/v1/sessions/current',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security: bearer,
          summary: 'Sign out (this token stops working)',
          response: responses({ 204: Type.Null() }),
        },
      },
      async (request, reply) => {
        await accounts.logout(principalOf(request).tokenHash);
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/api/v1/me/sessions',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security: bearer,
          summary: 'Sign out everywhere (every token of this account)',
          response: responses({ 204: Type.Null() }),
        },
      },
      async (request, reply) => {
        await accounts.logoutEverywhere(principalOf(request).accountId);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/me',
      {
        onRequest: auth.required,
        schema: {
          tags,
          security: bearer,
          summary: 'The signed-in account',
          response: responses({ 200: OwnAccountSchema }),
        },
      },
      (request) => accounts.me(principalOf(request).accountId),
    );

    app.get(
      '/api/v1/accounts/:username',
      {
        schema: {
          tags,
          summary: 'A public profile',
          params: Type.Object({ username: UsernameRef }),
          response: responses({ 200: AccountSchema }),
        },
      },
      async (request) => accounts.profile(request.params.username),
    );
  };
}
