import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Authenticate, Principal } from '../principal.js';

type Hook = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;

export interface AuthHooks {
  /** onRequest hook: a valid bearer token is required. */
  required: Hook;
  /** onRequest hook: a token is optional, but one that is sent must be valid. */
  optional: Hook;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,512})$/;

/**
 * Callback-style hooks (not async): when the principal is known without
 * asking the store, the request goes on with no promise round-trip.
 */
export function createAuthHooks(authenticate: Authenticate): AuthHooks {
  const invalid = () => new AppError('unauthenticated', 'the bearer token is invalid, expired or revoked');
  const settle = (request: FastifyRequest, principal: Principal | null, done: (error?: Error) => void) => {
    if (!principal) return done(invalid());
    request.principal = principal;
    done();
  };
  function resolve(request: FastifyRequest, needed: boolean, done: (error?: Error) => void): void {
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      return needed
        ? done(new AppError('unauthenticated', 'this route needs a bearer token (POST /api/v1/sessions)'))
        : done();
    }
    const token = BEARER.exec(header)?.[1];
    if (!token) return done(invalid());
    const found = authenticate(token);
    if (found instanceof Promise) {
      found.then((principal) => settle(request, principal, done), done);
    } else {
      settle(request, found, done);
    }
  }
  return {
    required: (request, _reply, done) => resolve(request, true, done),
    optional: (request, _reply, done) => resolve(request, false, done),
  };
}

/** The principal of a request that passed the `required` hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'this route needs a bearer token');
  return request.principal;
}
