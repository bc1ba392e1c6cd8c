import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import type { AccountsModule } from '../modules/accounts/index.js';
import {
  COMMENT_SORTS,
  TREE_DEPTH,
  PAGE_TREE_LIMIT,
  type CommentSort,
  type CommentsModule,
} from '../modules/comments/index.js';
import { CommunityName, type CommunitiesModule } from '../modules/communities/index.js';
import type { PostsModule } from '../modules/posts/index.js';
import { SEARCH_PAGE, type SearchKind, type SearchModule } from '../modules/search/index.js';
import { AppError } from '../platform/errors.js';
import type { Clock } from '../platform/clock.js';
import type { ModerationModule } from '../modules/moderation/index.js';
import { accountLimit, ipLimit, toErrorAnswer, type App } from '../platform/http/index.js';
import type { MemoryBudget } from '../platform/memory.js';
import { acceptForms, COMMENT_BODY, localPath, POST_BODY, readForm, type FieldRule, type FormErrors } from './forms.js';
import { authoringPages, oneComment } from './authoring-routes.js';
import {
  createKit,
  Cursor,
  HOLE,
  IdParam,
  makeFrame,
  nextPage,
  pageBytes,
  sameSitePath,
  wantsJson,
  type Frame,
} from './kit.js';
import { createPageCache } from './page-cache.js';
import { moderationPages } from './moderation-routes.js';
import { dropPages } from './drops-routes.js';
import { createStockStreams } from './stock-streams.js';
import type { DropsModule } from '../modules/drops/index.js';
import { createMarkdown } from './markdown.js';
import { ErrorPage, NewCommunityPage, SignInPage, SignUpPage, SubmitPage } from './pages/forms.js';
import { CommunitiesPage, CommunityPage, FeedPage, type PostSort, type Window } from './pages/posts.js';
import { ProfilePage } from './pages/profile.js';
import { SearchPage } from './pages/search.js';
import { InboxPage } from './pages/inbox.js';
import { AdminPage } from './pages/admin.js';
import type { MigrationStatus } from '../platform/migration/index.js';
import {
  CommentPage,
  PostPage,
  postTreeHtml,
  postTreeTemplate,
  type PostTree,
  type Stub,
  type TreeNode,
} from './pages/thread.js';
import { fillTree, type TreeTemplate } from './pages/tree-html.js';
import type { WebSessions } from './session.js';

export interface WebLimits {
  signupsPerHourPerIp: number;
  loginsPerMinutePerIp: number;
  postsPer10Min: number;
  commentsPerMinute: number;
  votesPerMinute: number;
  reportsPer10Min: number;
  ordersPerMinute: number;
  liveStreamsMax: number;
  liveStreamsPerClient: number;
}

export interface WebDeps {
  accounts: AccountsModule;
  communities: CommunitiesModule;
  posts: PostsModule;
  comments: CommentsModule;
  search: SearchModule;
  moderation: ModerationModule;
  drops: DropsModule;
  /** The live migration's state, for the site admin's page. */
  migrationStatus: () => Promise<MigrationStatus>;
  clock: Clock;
  sessions: WebSessions;
  memory: MemoryBudget;
  /** The stylesheet's and the script's files, read once at start. */
  assets: { css: string; js: string };
  bodyLimitBytes: number;
  limits: WebLimits;
}

const PAGE = 25;
const Sort = Type.Union([Type.Literal('hot'), Type.Literal('new'), Type.Literal('top')], { default: 'hot' });
const TimeWindow = Type.Union(
  ['hour', 'day', 'week', 'month', 'year', 'all'].map((t) => Type.Literal(t)),
  { default: 'all' },
);
const Listing = Type.Object({ sort: Sort, t: TimeWindow, cursor: Cursor });
const CommentSortQuery = Type.Optional(Type.Union(COMMENT_SORTS.map((s) => Type.Literal(s))));

const username: FieldRule = {
  max: 20,
  min: 3,
  trim: true,
  pattern: /^[A-Za-z0-9_]+$/,
  message: '3 to 20 letters, digits or _',
};
const COMMENT = COMMENT_BODY;

/** Static files with their content hash in the address, so they can be cached for good. */
function asset(file: string, type: string) {
  const body = readFileSync(file);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const [name, ext] = basename(file).split('.');
  return { path: `/assets/${name}.${hash}.${ext}`, body, type };
}

/** The server-rendered pages: same process, module services called in-process, forms that work without script. */
export function webRoutes(deps: WebDeps): FastifyPluginAsync {
  const { accounts, communities, posts, comments, search, sessions, limits } = deps;
  const markdown = createMarkdown(deps.memory);
  const css = asset(deps.assets.css, 'text/css; charset=utf-8');
  const js = asset(deps.assets.js, 'text/javascript; charset=utf-8');

  return async (fastify) => {
    const app = fastify as unknown as App;
    acceptForms(fastify, deps.bodyLimitBytes);
    // Pages are not API: they stay out of the OpenAPI document.
    app.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    app.addHook('onRequest', sessions.hook);
    // A signed-in reader's page shows their unread inbox count in its header (kept: no promise on a hit).
    app.addHook('preHandler', (request, _reply, done) => {
      const route = request.routeOptions.url ?? '';
      if (!request.principal || request.method !== 'GET' || route.startsWith('/assets') || route.endsWith('/stream'))
        return done();
      const n = comments.inbox.unreadCount(request.principal);
      if (!(n instanceof Promise)) {
        kit.countUnread(request, n);
        return done();
      }
      n.then((count) => {
        kit.countUnread(request, count);
        done();
      }, done);
    });

    const kit = createKit(sessions, { css: css.path, js: js.path });
    const pages = createPageCache(deps.memory);
    const trees = createPageCache<TreeTemplate>(deps.memory, (template) => template.bytes);
    const frames = createPageCache<Map<string, Frame>>(deps.memory, (variants) =>
      [...variants.values()].reduce((n, frame) => n + frame.bytes + 64, 0),
    );
    /** The frame `variant` of the page `key` names, kept with `source` beside the page's other variants. */
    const framed = (source: object, key: string, variant: string, make: () => Frame): Frame => {
      const variants = frames.get(source, key);
      const kept = variants?.get(variant);
      if (kept) return kept;
      const made = make();
      frames.set(source, key, new Map(variants).set(variant, made));
      return made;
    };
    /** A page every signed-out reader gets alike: a shared cache may keep it a few seconds too. */
    const sendShared = (reply: FastifyReply, html: Buffer) =>
      reply
        .code(200)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'public, max-age=5')
        .header('vary', 'cookie')
        .send(html);
    /**
     * A page that, for a signed-out reader, is made from `source` — an answer a module keeps
     * and replaces when it changes (a kept tree answer, a kept listing page) — and from what
     * `key` names: kept as bytes with it (page-cache.ts). Anyone else gets it made afresh.
     */
    const sendPage = (
      request: FastifyRequest,
      reply: FastifyReply,
      source: object | null,
      key: string,
      page: () => VNode,
    ) => {
      const shared = request.principal === null ? source : null;
      const hit = shared && pages.get(shared, key);
      if (hit) return sendShared(reply, hit);
      const vnode = page();
      if (!shared || reply.hasHeader('set-cookie')) return send(reply, 200, vnode);
      const html = pageBytes(vnode);
      pages.set(shared, key, html);
      return sendShared(reply, html);
    };
    const { view, send, sendFrame, back, signedIn, postedBy, submitted, csrfOf } = kit;
    moderationPages(app, kit, { ...deps, reportsPer10Min: limits.reportsPer10Min });
    authoringPages(app, kit, deps);
    const streams = createStockStreams({
      statusText: deps.drops.statusText,
      watchSold: deps.drops.watchSold,
      maxStreams: limits.liveStreamsMax,
      maxPerClient: limits.liveStreamsPerClient,
      heartbeatMs: 25_000,
    });
    app.addHook('preClose', async () => streams.close());
    dropPages(app, kit, { drops: deps.drops, streams, markdown, ordersPerMinute: limits.ordersPerMinute });

    app.setErrorHandler((error, request, reply) => {
      const answer = toErrorAnswer(error);
      if (answer.status >= 500) request.log.error({ err: error, reqId: request.id, url: request.url }, 'page failed');
      if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter));
      const message =
        answer.status >= 500 ? 'The page could not be made just now. Try again in a moment.' : answer.message;
      return send(
        reply,
        answer.status,
        <ErrorPage view={view(request, reply)} status={answer.status} message={message} />,
      );
    });

    for (const file of [css, js])
      app.get(file.path, { config: { rateLimit: false } }, (_request, reply) =>
        reply
          .header('content-type', file.type)
          .header('cache-control', 'public, max-age=31536000, immutable')
          .send(file.body),
      );

    // --- listings ---
    const listingLink = (base: string, q: { sort: string; t: string }, cursor: string | null) =>
      cursor ? `${base}?sort=${q.sort}${q.t !== 'all' ? `&t=${q.t}` : ''}&cursor=${encodeURIComponent(cursor)}` : null;

    app.get('/', { schema: { querystring: Listing } }, async (request, reply) => {
      const q = request.query as { sort: PostSort; t: Window; cursor?: string };
      const page = await posts.feed({ ...q, limit: PAGE }, request.principal);
      const none =
        request.principal !== null &&
        q.cursor === undefined &&
        page.items.length === 0 &&
        (await communities.subscribedIds(request.principal.accountId)).length === 0;
      return sendPage(request, reply, page, request.url, () => (
        <FeedPage
          view={view(request, reply)}
          posts={page.items}
          next={listingLink('/', q, page.nextCursor)}
          sort={q.sort}
          t={q.t}
          subscribedToNone={none}
        />
      ));
    });

    app.get(
      '/c/:name',
      { schema: { params: Type.Object({ name: CommunityName }), querystring: Listing } },
      async (request, reply) => {
        const q = request.query as { sort: PostSort; t: Window; cursor?: string };
        const [community, page] = await Promise.all([
          communities.get(request.params.name, request.principal),
          posts.community(request.params.name, { ...q, limit: PAGE }, request.principal),
        ]);
        return sendPage(request, reply, page, `${request.url}|${JSON.stringify(community)}`, () => (
          <CommunityPage
            view={view(request, reply)}
            community={community}
            posts={page.items}
            next={listingLink(`/c/${community.name}`, q, page.nextCursor)}
            sort={q.sort}
            t={q.t}
            markdown={markdown}
          />
        ));
      },
    );

    app.get('/communities', { schema: { querystring: Type.Object({ cursor: Cursor }) } }, async (request, reply) => {
      const page = await communities.list(
        { sort: 'popular', limit: 50, cursor: request.query.cursor },
        request.principal,
      );
      const next = nextPage('/communities', page.nextCursor);
      return send(reply, 200, <CommunitiesPage view={view(request, reply)} communities={page.items} next={next} />);
    });

    for (const action of ['subscribe', 'unsubscribe'] as const)
      app.post(
        `/c/:name/${action}`,
        { schema: { params: Type.Object({ name: CommunityName }) } },
        async (request, reply) => {
          const me = postedBy(request, reply);
          if (!me) return reply;
          await communities[action](request.params.name, me.accountId);
          return back(reply, `/c/${request.params.name}`);
        },
      );

    // --- creating communities and posts ---
    const NEW_COMMUNITY = {
      name: { max: 21, min: 3, trim: true, pattern: /^[A-Za-z0-9_]+$/, message: '3 to 21 letters, digits or _' },
      title: { max: 100, min: 1, trim: true, message: 'A title of 1 to 100 characters' },
      description: { max: 10_000, message: 'At most 10,000 characters' },
    } satisfies Record<string, FieldRule>;
    app.get('/communities/new', async (request, reply) => {
      if (!signedIn(request, reply)) return reply;
      return send(reply, 200, <NewCommunityPage view={view(request, reply)} />);
    });
    app.post('/communities', (request, reply) =>
      submitted(request, reply, {
        rules: NEW_COMMUNITY,
        act: async (values, me) => `/c/${(await communities.create(values, me!)).name}`,
        again: (values, errors) =>
          send(reply, 400, <NewCommunityPage view={view(request, reply)} values={values} errors={errors} />),
        fields: { community_exists: 'name' },
      }),
    );

    const SUBMIT = {
      title: { max: 300, min: 1, trim: true, message: 'A title of 1 to 300 characters' },
      url: {
        max: 2000,
        trim: true,
        pattern: /^https?:\/\/[^\s]+$/,
        message: 'A link starting with http:// or https://',
      },
      body: POST_BODY.body,
    } satisfies Record<string, FieldRule>;
    const Named = { params: Type.Object({ name: CommunityName }) };
    app.get('/c/:name/submit', { schema: Named }, async (request, reply) => {
      if (!signedIn(request, reply)) return reply;
      const c = await communities.ref(request.params.name);
      return send(reply, 200, <SubmitPage view={view(request, reply)} community={c.name} />);
    });
    app.post(
      '/c/:name/submit',
      { schema: Named, config: accountLimit(limits.postsPer10Min, 600_000) },
      (request, reply) =>
        submitted(request, reply, {
          rules: SUBMIT,
          async act({ title, url, body }, me) {
            const input = { title, url: url || undefined, body: body || undefined };
            return `/p/${(await posts.create(request.params.name, input, me!)).id}`;
          },
          again: (values, errors) =>
            send(
              reply,
              400,
              <SubmitPage
                view={view(request, reply)}
                community={request.params.name}
                values={values}
                errors={errors}
              />,
            ),
        }),
    );

    // --- threads ---
    const threadQuery = Type.Object({
      sort: CommentSortQuery,
      cursor: Cursor,
      reported: Type.Optional(Type.Literal('1')),
    });
    type ThreadQuery = { sort?: CommentSort; cursor?: string; reported?: '1' };
    type Replying = { values: { body: string }; errors: FormErrors<'body'> };
    const parsed = async <T,>(text: Promise<string | Buffer>) => JSON.parse((await text).toString()) as T;
    /** A post's page or a comment's, from the same tree answers as the API's (`status` 400: a reply came back). */
    const threadPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      at: { post: string } | { comment: string },
      q: ThreadQuery,
      status: number,
      replying?: Replying,
    ) => {
      const who = request.principal;
      const query = { sort: q.sort, cursor: q.cursor, limit: PAGE_TREE_LIMIT, depth: TREE_DEPTH };
      // The tree's sort, when the address names it; with a cursor the cursor's sort rules.
      const sort = q.cursor === undefined ? (q.sort ?? 'best') : null;
      const moderates = async (communityName: string) =>
        who !== null && communities.showsModeration((await communities.ref(communityName)).id, who);
      const notice = q.reported ? 'Thank you: the moderators will see your report.' : undefined;
      if ('post' in at) {
        // The reader's vote on the post comes with their votes on the comments (one statement).
        const [shown, tree] = await Promise.all([
          posts.get(at.post, who, { myVote: false }),
          comments.sharedTree(at.post, query, who),
        ]);
        const post = who ? { ...shown, myVote: tree.postVote } : shown;
        const moderator = await moderates(post.communityName);
        const v = view(request, reply);
        const parse = () => JSON.parse(tree.text.toString()) as PostTree;
        const page = (html: string, framing = v) => (
          <PostPage
            view={framing}
            post={post}
            tree={html}
            sort={q.sort ?? 'best'}
            moderator={moderator}
            notice={notice}
            continued={q.cursor !== undefined}
            markdown={markdown}
            reply={replying}
          />
        );
        if (who) {
          // The comments are a template kept with the shared tree answer, filled with this reader's votes.
          const key = `${post.locked ? 'locked' : 'open'}|${sort}`;
          const template =
            trees.get(tree.text, key) ?? trees.set(tree.text, key, postTreeTemplate(v, post, parse(), markdown, sort));
          // The page around them is a frame kept with it too, one per way readers see the post differently
          // (a form sent back with the reader's text and its messages is made for them alone).
          // `shown` is the post without the reader's vote, which is part of the variant instead.
          const make = () => makeFrame(v, (framing) => page(HOLE, framing));
          const variant = `${tree.postVote}|${moderator}|${who.username === post.author}`;
          const frame = replying ? make() : framed(tree.text, `${request.url}|${JSON.stringify(shown)}`, variant, make);
          return sendFrame(reply, status, frame, v, fillTree(template, tree.votes));
        }
        // A signed-out reader's page is kept with the shared tree answer: parsed only when the page is made.
        const made = () => page(postTreeHtml(v, post, parse(), markdown, sort));
        const key = `${request.url}|${JSON.stringify(post)}`;
        return status === 200 ? sendPage(request, reply, tree.text, key, made) : send(reply, status, made());
      }
      const root = await parsed<TreeNode & { more: Stub[] }>(comments.subtree(at.comment, query, who));
      const post = await posts.get(root.postId, who);
      const page = { post, root, more: root.more, sort, moderator: await moderates(post.communityName), notice };
      return send(
        reply,
        status,
        <CommentPage view={view(request, reply)} {...page} markdown={markdown} reply={replying} />,
      );
    };
    app.get('/p/:id', { schema: { ...IdParam, querystring: threadQuery } }, (request, reply) =>
      threadPage(request, reply, { post: request.params.id }, request.query as ThreadQuery, 200),
    );
    app.get('/comments/:id', { schema: { ...IdParam, querystring: threadQuery } }, (request, reply) =>
      threadPage(request, reply, { comment: request.params.id }, request.query as ThreadQuery, 200),
    );

    const commentLimit = { config: accountLimit(limits.commentsPerMinute, 60_000) };
    app.post('/p/:id/comments', { schema: IdParam, ...commentLimit }, (request, reply) => {
      const { id } = request.params;
      return submitted(request, reply, {
        rules: COMMENT,
        act: async ({ body }, me) => `/p/${id}#c-${(await comments.create(id, { body }, me!)).id}`,
        again: (values, errors) => threadPage(request, reply, { post: id }, {}, 400, { values, errors }),
      });
    });
    app.post('/comments/:id/reply', { schema: IdParam, ...commentLimit }, (request, reply) => {
      const { id } = request.params;
      return submitted(request, reply, {
        rules: COMMENT,
        async act({ body }, me) {
          const parent = await oneComment(comments, id, me);
          const created = await comments.create(parent.postId, { body, parentId: parent.id }, me!);
          return `/p/${parent.postId}#c-${created.id}`;
        },
        again: (values, errors) => threadPage(request, reply, { comment: id }, {}, 400, { values, errors }),
      });
    });

    // --- votes: the form posts, the page comes back where it was ---
    const VOTE = {
      value: { max: 2, min: 1, pattern: /^(1|0|-1)$/, message: 'A vote is 1, 0 or -1' },
      back: { max: 600, message: '' },
    };
    const voteLimit = { config: accountLimit(limits.votesPerMinute, 60_000) };
    const voted = [
      { path: '/p', anchor: 'p', vote: posts.vote },
      { path: '/comments', anchor: 'c', vote: comments.vote },
    ] as const;
    for (const kind of voted)
      app.post(`${kind.path}/:id/vote`, { schema: IdParam, ...voteLimit }, async (request, reply) => {
        const me = postedBy(request, reply);
        if (!me) return reply;
        const form = readForm(request.body, VOTE);
        if (!form.ok) throw new AppError('invalid_request', 'a vote is 1, 0 or -1', { field: 'value' });
        const { id } = request.params;
        const counts = await kind.vote(id, Number(form.values.value) as 1 | 0 | -1, me);
        if (wantsJson(request)) return counts;
        // Back where the vote came from: the form's `back`, else its page (Referer, this site's only).
        const from = form.values.back || sameSitePath(request) || `${kind.path}/${id}`;
        return back(reply, `${localPath(from, `${kind.path}/${id}`).split('#')[0]}#${kind.anchor}-${id}`);
      });

    // --- accounts ---
    const SIGN_UP = {
      username,
      password: { max: 128, min: 8, message: '8 to 128 characters' },
      email: {
        max: 254,
        trim: true,
        pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
        message: 'An e-mail address like name@example.org',
      },
    } satisfies Record<string, FieldRule>;
    const SIGN_IN = {
      username: { max: 64, min: 1, trim: true, message: 'Your username' },
      password: { max: 128, min: 1, message: 'Your password' },
      next: { max: 600, message: '' },
    } satisfies Record<string, FieldRule>;
    const signIn = async (reply: FastifyReply, username_: string, password: string) => {
      const session = await accounts.login({ username: username_, password });
      sessions.signIn(reply, session.token, session.expiresAt);
    };

    app.get('/signup', (request, reply) => send(reply, 200, <SignUpPage view={view(request, reply)} />));
    app.post('/signup', { config: ipLimit(limits.signupsPerHourPerIp, 3600_000) }, (request, reply) =>
      submitted(request, reply, {
        anyone: true,
        rules: SIGN_UP,
        async act({ username: name, password, email }) {
          await accounts.register({ username: name, password, email: email || undefined });
          await signIn(reply, name, password);
          return '/communities';
        },
        again: (values, errors) =>
          send(reply, 400, <SignUpPage view={view(request, reply)} values={values} errors={errors} />),
        fields: { username_taken: 'username' },
      }),
    );

    app.get(
      '/signin',
      { schema: { querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 600 })) }) } },
      (request, reply) =>
        send(reply, 200, <SignInPage view={view(request, reply)} next={localPath(request.query.next)} />),
    );
    app.post('/signin', { config: ipLimit(limits.loginsPerMinutePerIp, 60_000) }, (request, reply) =>
      submitted(request, reply, {
        anyone: true,
        rules: SIGN_IN,
        async act({ username: name, password, next }) {
          await signIn(reply, name, password);
          return localPath(next);
        },
        again: (values, errors) =>
          send(
            reply,
            400,
            <SignInPage view={view(request, reply)} next={localPath(values.next)} values={values} errors={errors} />,
          ),
      }),
    );

    app.post('/signout', async (request, reply) => {
      sessions.check(request, csrfOf(request));
      if (request.principal) await accounts.logout(request.principal.tokenHash);
      sessions.signOut(reply);
      return back(reply, '/');
    });

    app.get(
      '/u/:username',
      {
        schema: {
          params: Type.Object({ username: Type.String({ pattern: '^[A-Za-z0-9_-]{3,20}$' }) }),
          querystring: Type.Object({
            tab: Type.Optional(Type.Union([Type.Literal('posts'), Type.Literal('comments')])),
            cursor: Cursor,
          }),
        },
      },
      async (request, reply) => {
        const { username: name } = request.params;
        const tab = request.query.tab ?? 'posts';
        const account = await accounts.profile(name);
        const input = { limit: PAGE, cursor: request.query.cursor };
        const page = tab === 'posts' ? await posts.byAuthor(name, input, request.principal) : null;
        const said = tab === 'comments' ? await comments.byAuthor(name, input, request.principal) : null;
        const cursor = page?.nextCursor ?? said?.nextCursor ?? null;
        const next = cursor
          ? `/u/${account.username}?${tab === 'comments' ? 'tab=comments&' : ''}cursor=${encodeURIComponent(cursor)}`
          : null;
        return send(
          reply,
          200,
          <ProfilePage
            view={view(request, reply)}
            account={account}
            tab={tab}
            posts={page?.items ?? []}
            comments={said?.items ?? []}
            next={next}
            markdown={markdown}
          />,
        );
      },
    );

    app.get(
      '/inbox',
      { schema: { querystring: Type.Object({ unread: Type.Boolean({ default: false }), cursor: Cursor }) } },
      async (request, reply) => {
        const me = signedIn(request, reply);
        if (!me) return reply;
        const q = request.query as { unread: boolean; cursor?: string };
        const page = await comments.inbox.list({ limit: PAGE, unread: q.unread, cursor: q.cursor }, me);
        const next = page.nextCursor
          ? `/inbox?${q.unread ? 'unread=true&' : ''}cursor=${encodeURIComponent(page.nextCursor)}`
          : null;
        return send(
          reply,
          200,
          <InboxPage
            view={view(request, reply)}
            items={page.items}
            unreadCount={page.unreadCount}
            unreadOnly={q.unread}
            next={next}
            markdown={markdown}
          />,
        );
      },
    );
    app.get('/admin', async (request, reply) => {
      const me = signedIn(request, reply);
      if (!me) return reply;
      if (!me.isAdmin) throw new AppError('forbidden', 'this page is for site admins');
      return send(reply, 200, <AdminPage view={view(request, reply)} status={await deps.migrationStatus()} />);
    });

    app.post('/inbox/read', async (request, reply) => {
      const me = postedBy(request, reply);
      if (!me) return reply;
      await comments.inbox.markRead(undefined, me);
      return back(reply, '/inbox');
    });

    app.get(
      '/search',
      {
        schema: {
          querystring: Type.Object({
            q: Type.String({ maxLength: 200, default: '' }),
            type: Type.Union([Type.Literal('posts'), Type.Literal('comments'), Type.Literal('communities')], {
              default: 'posts',
            }),
            cursor: Cursor,
          }),
        },
      },
      async (request, reply) => {
        const { q, type, cursor } = request.query as { q: string; type: SearchKind; cursor?: string };
        const found = q.trim()
          ? await search.search({ q, type, limit: SEARCH_PAGE, cursor }, request.principal)
          : { items: [], nextCursor: null };
        const next = found.nextCursor
          ? `/search?q=${encodeURIComponent(q)}&type=${type}&cursor=${encodeURIComponent(found.nextCursor)}`
          : null;
        return send(
          reply,
          200,
          <SearchPage
            view={view(request, reply)}
            q={q}
            type={type}
            items={found.items}
            next={next}
            markdown={markdown}
          />,
        );
      },
    );
  };
}
