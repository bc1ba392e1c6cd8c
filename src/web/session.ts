import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.js';
import type { Authenticate, Principal } from '../platform/principal.js';
import { readCookie, setCookie } from './cookies.js';

/** The session cookie holds the same token a bearer client sends (HttpOnly: no script reads it). */
export const SESSION_COOKIE = 'agora_session';
/** A random value per browser; form tokens are bound to it and to the session. */
const NONCE_COOKIE = 'agora_csrf';
const TOKEN = /^[A-Za-z0-9_-]{1,512}$/;

export interface WebSessions {
  /** onRequest hook: the session cookie becomes `request.principal`; a dead one is cleared. */
  hook(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void;
  /** The form token of this request's page (gives the browser its nonce cookie when it has none). */
  formToken(request: FastifyRequest, reply: FastifyReply): string;
  /** Refuses a form whose token is missing or does not match this browser and session. */
  check(request: FastifyRequest, token: unknown): void;
  signIn(reply: FastifyReply, token: string, expiresAt: number): void;
  signOut(reply: FastifyReply): void;
}

/**
 * Cookie sessions beside the bearer tokens, and CSRF protection for every
 * form: a token that is the HMAC of the browser's nonce cookie and the
 * session, checked on each POST (SameSite=Lax already keeps the cookies off
 * other sites' POSTs; the token also covers sign-in and older browsers).
 */
export function createWebSessions(options: {
  authenticate: Authenticate;
  secret: Buffer;
  secure: boolean;
  now: () => number;
}): WebSessions {
  const { authenticate, secret, secure } = options;
  const nonces = new WeakMap<FastifyRequest, string>();
  const sign = (nonce: string, principal: Principal | null) =>
    createHmac('sha256', secret)
      .update(`${nonce}|${principal?.tokenHash ?? ''}`)
      .digest('base64url');
  const clear = (reply: FastifyReply) =>
    reply.header('set-cookie', setCookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, secure }));

  return {
    hook(request, reply, done) {
      const token = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (token === undefined || !TOKEN.test(token)) return done();
      const settle = (principal: Principal | null) => {
        if (principal) request.principal = principal;
        else clear(reply);
        done();
      };
      const found = authenticate(token);
      if (found instanceof Promise) found.then(settle, done);
      else settle(found);
    },
    formToken(request, reply) {
      let nonce = nonces.get(request) ?? readCookie(request.headers.cookie, NONCE_COOKIE);
      if (nonce === undefined) {
        nonce = randomBytes(18).toString('base64url');
        reply.header('set-cookie', setCookie(NONCE_COOKIE, nonce, { maxAgeSeconds: 365 * 24 * 3600, secure }));
      }
      nonces.set(request, nonce);
      return sign(nonce, request.principal);
    },
    check(request, token) {
      const nonce = readCookie(request.headers.cookie, NONCE_COOKIE);
      const expected = nonce === undefined ? null : Buffer.from(sign(nonce, request.principal));
      const given = typeof token === 'string' ? Buffer.from(token) : null;
      if (!expected || !given || given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new AppError(
          'forbidden',
          'this form has expired or came from another site: reload the page and send it again',
          {
            field: '_csrf',
          },
        );
    },
    signIn(reply, token, expiresAt) {
      const maxAgeSeconds = Math.max(0, Math.floor((expiresAt - options.now()) / 1000));
      reply.header('set-cookie', setCookie(SESSION_COOKIE, token, { maxAgeSeconds, secure }));
    },
    signOut: clear,
  };
}
