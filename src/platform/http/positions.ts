import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { formatPosition, parsePosition, readContext, type Store } from '../store/index.js';

/** How long a writer's position is kept for their reads: longer than a replica may lag and stay in rotation. */
const KEEP_MS = 60_000;
const MAX_ACCOUNTS = 100_000;
const COOKIE = 'agora_pos';

/**
 * Read-your-writes with read replicas, by position: a request that may have
 * written (any method but GET and HEAD) is answered with the primary's WAL
 * position after this process's latest commit — in the `Agora-Position`
 * header and the `agora_pos` cookie — and the position is kept for its
 * account. A request's reads go to a replica only once it has replayed the
 * highest of: its `Agora-Position` header (API clients echo the last one
 * they got), its cookie (browsers, signed in or not), and its account's kept
 * position (written through this process).
 */
export function registerReadPositions(app: FastifyInstance, store: Store, now: () => number = Date.now): void {
  const byAccount = new Map<string, { position: bigint; at: number }>();

  const minOf = (request: FastifyRequest, header: bigint | null): bigint => {
    let min = header ?? 0n;
    const cookie = /(?:^|;\s*)agora_pos=([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})(?:;|$)/.exec(request.headers.cookie ?? '');
    const fromCookie = cookie ? parsePosition(cookie[1]!) : null;
    if (fromCookie !== null && fromCookie > min) min = fromCookie;
    const kept = request.principal ? byAccount.get(request.principal.accountId) : undefined;
    if (kept && now() - kept.at < KEEP_MS && kept.position > min) min = kept.position;
    return min;
  };

  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    const raw = request.headers['agora-position'];
    let header: bigint | null = null;
    if (raw !== undefined) {
      header = typeof raw === 'string' ? parsePosition(raw.trim()) : null;
      if (header === null)
        return done(
          new AppError('invalid_request', 'Agora-Position must be a position Agora gave, like 0/16B3748', {
            field: 'Agora-Position',
          }),
        );
    }
    readContext.run({ min: () => minOf(request, header) }, done);
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const position = request.method === 'GET' || request.method === 'HEAD' ? null : store.writePosition();
    if (position !== null && position > 0n && reply.statusCode < 400) {
      const text = formatPosition(position);
      reply.header('agora-position', text);
      reply.header('set-cookie', [
        ...[reply.getHeader('set-cookie') ?? []].flat().map(String),
        `${COOKIE}=${text}; Path=/; Max-Age=${KEEP_MS / 1000}; HttpOnly; SameSite=Lax`,
      ]);
      const account = request.principal?.accountId;
      if (account) {
        byAccount.delete(account);
        byAccount.set(account, { position, at: now() });
        if (byAccount.size > MAX_ACCOUNTS) byAccount.delete(byAccount.keys().next().value!);
      }
    }
    done(null, payload);
  });
}
