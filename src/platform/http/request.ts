import type { Principal } from '../principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is making the request, as the auth hook found it. */
    principal: Principal | null;
    /** The request reached the rate limiter (preHandler): it was counted there. */
    passedLimiter: boolean;
  }
  interface FastifyReply {
    /**
     * Answers with a body in pieces, written without joining them (server.ts): for large
     * answers made of kept parts with a reader's own between.
     */
    sendParts(parts: Buffer[]): FastifyReply;
  }
}
