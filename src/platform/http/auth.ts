import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Authenticate, Principal } from './principal.js';

export interface AuthHooks {
  /** onRequest hook: a valid bearer token is required. */
  required: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** onRequest hook: a token is optional, but one that is sent must be valid. */
  optional: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,512})$/;

export function createAuthHooks(authenticate: Authenticate): AuthHooks {
  async function resolve(request: FastifyRequest, needed: boolean): Promise<void> {
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      if (needed) throw new AppError('unauthenticated', 'this route needs a bearer token (POST /api/v1/sessions)');
      return;
    }
    const match = BEARER.exec(header);
    const principal: Principal | null = match?.[1] ? await authenticate(match[1]) : null;
    if (!principal) throw new AppError('unauthenticated', 'the bearer token is invalid, expired or revoked');
    request.principal = principal;
  }
  return {
    required: (request) => resolve(request, true),
    optional: (request) => resolve(request, false),
  };
}

/** The principal of a request that passed the `required` hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'this route needs a bearer token');
  return request.principal;
}
