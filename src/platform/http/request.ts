import type { Principal } from '../principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is making the request, as the auth hook found it. */
    principal: Principal | null;
    /** The request reached the rate limiter (preHandler): it was counted there. */
    passedLimiter: boolean;
  }
}
