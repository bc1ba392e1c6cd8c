import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { principalOf, responses, type App, type AuthHooks } from '../http/index.js';
import type { Migrator } from './migrator.js';

const Count = Type.Integer({ minimum: 0 });
const VerifySchema = Type.Object({
  at: Type.Integer(),
  mismatches: Count,
  changing: Count,
  tables: Type.Array(
    Type.Object({
      name: Type.String(),
      sourceRows: Count,
      targetRows: Count,
      mismatches: Count,
      keys: Type.Array(Type.Array(Type.Unknown())),
    }),
  ),
});
const Nullable = <T extends ReturnType<typeof Type.Object>>(schema: T) => Type.Union([schema, Type.Null()]);
const StatusSchema = Type.Object({
  phase: Type.String(),
  source: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.Integer(), Type.Null()]),
  copiedRows: Count,
  totalRows: Count,
  rowsPerSecond: Count,
  etaSeconds: Type.Union([Type.Integer(), Type.Null()]),
  lag: Type.Object({ events: Count, ms: Count }),
  tables: Type.Array(Type.Object({ name: Type.String(), rows: Count, copied: Count })),
  verify: Nullable(VerifySchema),
  cutover: Nullable(Type.Object({ at: Type.Integer(), pauseMs: Count })),
  error: Type.Union([Type.String(), Type.Null()]),
  direction: Type.Union([Type.String(), Type.Null()]),
  chunkRows: Count,
  runningHere: Type.Boolean(),
});
const Pause = Type.Object({ pauseMs: Count });
const Done = Type.Object({ phase: Type.String() });

/** The live migration's admin routes (api.md, "Admin: live migration"): site admins only. */
export function migrationRoutes(migrator: Migrator, auth: AuthHooks): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    const tags = ['admin'];
    const security = [{ bearer: [] }];
    const adminOnly = (request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) => {
      if (!principalOf(request).isAdmin) return done(new AppError('forbidden', 'site admins only'));
      done();
    };
    const onRequest = [auth.required, adminOnly];
    const phase = async () => ({ phase: (await migrator.status()).phase });

    app.post(
      '/admin/migration',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Start moving the site to another store (capture, then copy)',
          body: Type.Object({ target: Type.String({ minLength: 1, maxLength: 2000 }) }),
          response: responses({ 202: StatusSchema }),
        },
      },
      async (request, reply) => reply.code(202).send(await migrator.start(request.body.target)),
    );
    app.get(
      '/admin/migration',
      {
        onRequest,
        schema: { tags, security, summary: 'The migration’s status', response: responses({ 200: StatusSchema }) },
      },
      () => migrator.status(),
    );
    app.post(
      '/admin/migration/verify',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Compare every table on both stores (row counts, per-chunk checksums, differing keys)',
          response: responses({ 200: VerifySchema }),
        },
      },
      () => migrator.verify(),
    );
    app.post(
      '/admin/migration/cutover',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Make the target the primary (writes wait for the pause)',
          response: responses({ 200: Pause }),
        },
      },
      () => migrator.cutover(),
    );
    app.post(
      '/admin/migration/rollback',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Make the source the primary again, with every write made on the target',
          response: responses({ 200: Pause }),
        },
      },
      () => migrator.rollback(),
    );
    app.post(
      '/admin/migration/finish',
      {
        onRequest,
        schema: { tags, security, summary: 'Retire the source', response: responses({ 200: Done }) },
      },
      async () => {
        await migrator.finish();
        return phase();
      },
    );
    app.delete(
      '/admin/migration',
      {
        onRequest,
        schema: {
          tags,
          security,
          summary: 'Abort a migration before its cutover (capture removed)',
          response: responses({ 200: Done }),
        },
      },
      async () => {
        await migrator.abort();
        return phase();
      },
    );
  };
}
