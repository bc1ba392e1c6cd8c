import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommentsModule } from '../modules/comments/index.js';
import { CommunityName, type CommunitiesModule } from '../modules/communities/index.js';
import type { ModerationModule } from '../modules/moderation/index.js';
import type { PostsModule } from '../modules/posts/index.js';
import { AppError } from '../platform/errors.js';
import { accountLimit, type App } from '../platform/http/index.js';
import type { Clock } from '../platform/clock.js';
import { readForm, type FieldRule } from './forms.js';
import { Cursor, IdParam, nextPage, type Kit } from './kit.js';
import { BansPage, ModlogPage, ReportPage, ReportsPage } from './pages/moderation.js';
import type { FilledForm } from './view.js';

export interface ModerationPagesDeps {
  communities: CommunitiesModule;
  posts: PostsModule;
  comments: CommentsModule;
  moderation: ModerationModule;
  clock: Clock;
  reportsPer10Min: number;
}

const REASON: Record<'reason', FieldRule> = {
  reason: { max: 1000, min: 1, trim: true, message: 'Say why, in 1 to 1,000 characters' },
};
const BAN = {
  username: { max: 20, min: 3, trim: true, pattern: /^[A-Za-z0-9_-]+$/, message: 'The name of an account' },
  reason: REASON.reason,
  days: { max: 4, trim: true, pattern: /^[1-9][0-9]{0,3}$/, message: 'A number of days from 1 to 9999, or empty' },
} satisfies Record<string, FieldRule>;
const Named = { params: Type.Object({ name: CommunityName }) };
const Listed = { ...Named, querystring: Type.Object({ cursor: Cursor }) };

/** Reports, moderator actions on posts and comments, the reports queue, the public modlog, bans. */
export function moderationPages(app: App, kit: Kit, deps: ModerationPagesDeps): void {
  const { communities, posts, comments, moderation } = deps;
  const { view, send, back, postedBy, submitted, signedIn } = kit;

  // --- reports: any signed-in reader, once per post or comment ---
  const reported = [
    {
      path: '/p',
      what: 'post' as const,
      report: posts.report,
      title: async (id: string) => (await posts.get(id, null)).title,
    },
    {
      path: '/comments',
      what: 'comment' as const,
      report: comments.report,
      title: async (id: string) => `a comment (${id})`,
    },
  ];
  const reportLimit = { config: accountLimit(deps.reportsPer10Min, 600_000) };
  for (const kind of reported) {
    app.get(`${kind.path}/:id/report`, { schema: IdParam }, async (request, reply) => {
      if (!signedIn(request, reply)) return reply;
      const { id } = request.params as { id: string };
      return send(
        reply,
        200,
        <ReportPage view={view(request, reply)} what={kind.what} id={id} title={await kind.title(id)} />,
      );
    });
    app.post(`${kind.path}/:id/report`, { schema: IdParam, ...reportLimit }, (request, reply) => {
      const { id } = request.params as { id: string };
      return submitted(request, reply, {
        rules: REASON,
        async act({ reason }, me) {
          await kind.report(id, reason, me!);
          return `${kind.path}/${id}?reported=1`;
        },
        again: async (values, errors) =>
          send(
            reply,
            400,
            <ReportPage
              view={view(request, reply)}
              what={kind.what}
              id={id}
              title={await kind.title(id)}
              values={values}
              errors={errors}
            />,
          ),
        fields: { already_reported: 'reason' },
      });
    });
  }

  // --- a moderator's actions: each a POST that comes back to the post or comment ---
  const acts: {
    path: string;
    act: (id: string, reason: string, me: NonNullable<FastifyRequest['principal']>) => Promise<unknown>;
  }[] = [
    { path: '/p/:id/remove', act: (id, reason, me) => posts.removeAsModerator(id, reason, me) },
    { path: '/p/:id/restore', act: (id, _reason, me) => posts.restoreAsModerator(id, me) },
    { path: '/p/:id/lock', act: (id, _reason, me) => posts.setLocked(id, true, me) },
    { path: '/p/:id/unlock', act: (id, _reason, me) => posts.setLocked(id, false, me) },
    { path: '/comments/:id/remove', act: (id, reason, me) => comments.removeAsModerator(id, reason, me) },
    { path: '/comments/:id/restore', act: (id, _reason, me) => comments.restoreAsModerator(id, me) },
  ];
  for (const { path, act } of acts)
    app.post(path, { schema: IdParam }, async (request, reply) => {
      const me = postedBy(request, reply);
      if (!me) return reply;
      const { id } = request.params as { id: string };
      let reason = '';
      if (path.endsWith('/remove')) {
        const form = readForm(request.body, REASON);
        if (!form.ok)
          throw new AppError('invalid_request', 'a removal needs a reason (1 to 1,000 characters)', {
            field: 'reason',
          });
        reason = form.values.reason;
      }
      await act(id, reason, me);
      return back(reply, path.replace(':id', id).replace(/\/[a-z]+$/, ''));
    });

  // --- the community's moderation pages ---
  const moderatorOf = async (name: string, request: FastifyRequest) => {
    const c = await communities.ref(name);
    return request.principal !== null && (await communities.canModerate(c.id, request.principal));
  };

  app.get('/c/:name/reports', { schema: Listed }, async (request, reply) => {
    const me = signedIn(request, reply);
    if (!me) return reply;
    const { name } = request.params as { name: string };
    const page = await moderation.reports(
      name,
      { limit: 50, cursor: (request.query as { cursor?: string }).cursor },
      me,
    );
    return send(
      reply,
      200,
      <ReportsPage
        view={view(request, reply)}
        community={name}
        reports={page.items}
        next={nextPage(`/c/${name}/reports`, page.nextCursor)}
      />,
    );
  });
  app.post('/reports/:id/resolve', { schema: IdParam }, async (request, reply) => {
    const me = postedBy(request, reply);
    if (!me) return reply;
    await moderation.resolveReport((request.params as { id: string }).id, me);
    const community = (request.body as { community?: unknown }).community;
    return back(
      reply,
      typeof community === 'string' && /^[A-Za-z0-9_]{3,21}$/.test(community) ? `/c/${community}/reports` : '/',
    );
  });

  app.get('/c/:name/modlog', { schema: Listed }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const [page, moderator] = await Promise.all([
      moderation.modlog(name, { limit: 50, cursor: (request.query as { cursor?: string }).cursor }),
      moderatorOf(name, request),
    ]);
    return send(
      reply,
      200,
      <ModlogPage
        view={view(request, reply)}
        community={name}
        moderator={moderator}
        entries={page.items}
        next={nextPage(`/c/${name}/modlog`, page.nextCursor)}
      />,
    );
  });

  const bansPage = async (request: FastifyRequest, reply: FastifyReply, status: number, form?: FilledForm) => {
    const { name } = request.params as { name: string };
    const bans = await moderation.bans(name, request.principal!);
    return send(reply, status, <BansPage view={view(request, reply)} community={name} bans={bans} {...form} />);
  };
  app.get('/c/:name/bans', { schema: Named }, async (request, reply) => {
    if (!signedIn(request, reply)) return reply;
    return bansPage(request, reply, 200);
  });
  app.post('/c/:name/bans', { schema: Named }, (request, reply) =>
    submitted(request, reply, {
      rules: BAN,
      async act({ username, reason, days }, me) {
        const expiresAt = days ? deps.clock.now() + Number(days) * 24 * 3600_000 : undefined;
        await moderation.ban(request.params.name, { username, reason, expiresAt }, me!);
        return `/c/${request.params.name}/bans`;
      },
      again: (values, errors) => bansPage(request, reply, 400, { values, errors }),
      fields: { not_found: 'username' },
    }),
  );
  app.post(
    '/c/:name/bans/:username/lift',
    {
      schema: {
        params: Type.Object({ name: CommunityName, username: Type.String({ pattern: '^[A-Za-z0-9_-]{3,20}$' }) }),
      },
    },
    async (request, reply) => {
      const me = postedBy(request, reply);
      if (!me) return reply;
      await moderation.unban(request.params.name, request.params.username, me);
      return back(reply, `/c/${request.params.name}/bans`);
    },
  );
}
