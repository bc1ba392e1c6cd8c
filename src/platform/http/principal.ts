/** Who is making a request, as the auth hook found it. */
export interface Principal {
  accountId: string;
  username: string;
  isAdmin: boolean;
  /** When the account was made (epoch ms): new accounts get tighter limits. */
  createdAt: number;
  /** Hash of the bearer token used (to end this session). */
  tokenHash: string;
}

/**
 * Turns a bearer token into a principal; null when unknown, expired or
 * revoked. May answer synchronously when it knows without asking the store.
 */
export type Authenticate = (token: string) => Principal | null | Promise<Principal | null>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The request reached the rate limiter (preHandler): it was counted there. */
    passedLimiter: boolean;
  }
}
