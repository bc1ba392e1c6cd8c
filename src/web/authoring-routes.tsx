import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommentsModule } from '../modules/comments/index.js';
import type { PostsModule } from '../modules/posts/index.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import type { Principal } from '../platform/principal.js';
import { COMMENT_BODY, POST_BODY, type FieldRule } from './forms.js';
import { IdParam, type Kit } from './kit.js';
import { DeletePage, EditPage, type Authored } from './pages/authoring.js';
import type { TreeNode } from './pages/tree-html.js';

export interface AuthoringPagesDeps {
  posts: PostsModule;
  comments: CommentsModule;
}

/** One kind of thing people write: how to read it, change it, and where to go after. */
interface Kind {
  path: '/p' | '/comments';
  rules: Record<'body', FieldRule>;
  read(id: string, me: Principal): Promise<Authored & { author: string | null; body: string; deleted: boolean }>;
  edit(id: string, body: string, me: Principal): Promise<unknown>;
  remove(id: string, me: Principal): Promise<unknown>;
  /** Where a deleted one's author goes. */
  gone(id: string, me: Principal): Promise<string>;
}

/** One comment as the reader sees it (no replies): the first node of its subtree answer. */
export async function oneComment(comments: CommentsModule, id: string, me: Principal | null): Promise<TreeNode> {
  return JSON.parse((await comments.subtree(id, { limit: 1, depth: 1 }, me)).toString()) as TreeNode;
}

/** Editing and deleting one's own posts and comments. */
export function authoringPages(app: App, kit: Kit, deps: AuthoringPagesDeps): void {
  const { posts, comments } = deps;
  const { view, send, signedIn, submitted } = kit;
  const comment = (id: string, me: Principal) => oneComment(comments, id, me);
  const kinds: Kind[] = [
    {
      path: '/p',
      rules: POST_BODY,
      async read(id, me) {
        const post = await posts.get(id, me);
        return {
          what: 'post',
          path: `/p/${id}`,
          title: post.title,
          author: post.author,
          body: post.body ?? '',
          deleted: post.deleted,
        };
      },
      edit: (id, body, me) => posts.edit(id, { body }, me),
      remove: (id, me) => posts.remove(id, me),
      gone: async (id, me) => `/c/${(await posts.get(id, me)).communityName}`,
    },
    {
      path: '/comments',
      rules: COMMENT_BODY,
      async read(id, me) {
        const c = await comment(id, me);
        return {
          what: 'comment',
          path: `/comments/${id}`,
          title: 'your comment',
          author: c.author,
          body: c.body ?? '',
          deleted: c.deleted,
        };
      },
      edit: (id, body, me) => comments.edit(id, { body }, me),
      remove: (id, me) => comments.remove(id, me),
      gone: async (id, me) => `/p/${(await comment(id, me)).postId}`,
    },
  ];

  for (const kind of kinds) {
    /** The item, if `me` wrote it and it is still there; refused otherwise (an HTML error page). */
    const own = async (id: string, me: Principal) => {
      const item = await kind.read(id, me);
      if (item.deleted) throw new AppError('not_found', `this ${item.what} was deleted`);
      if (item.author !== me.username) throw new AppError('forbidden', `only its author can change this ${item.what}`);
      return item;
    };
    const page =
      (request: FastifyRequest, reply: FastifyReply, status: number, Page: typeof EditPage) =>
      async (item: Authored, form: { values?: { body: string }; errors?: Record<string, string> } = {}) =>
        send(reply, status, <Page view={view(request, reply)} item={item} {...form} />);

    app.get(`${kind.path}/:id/edit`, { schema: IdParam }, async (request, reply) => {
      const me = signedIn(request, reply);
      if (!me) return reply;
      const item = await own(request.params.id, me);
      return page(request, reply, 200, EditPage)(item, { values: { body: item.body } });
    });
    app.post(`${kind.path}/:id/edit`, { schema: IdParam }, (request, reply) => {
      const { id } = request.params;
      return submitted(request, reply, {
        rules: kind.rules,
        async act({ body }, me) {
          await own(id, me!);
          await kind.edit(id, body, me!);
          return kind.path === '/p' ? `/p/${id}` : `/comments/${id}`;
        },
        again: async (values, errors) =>
          page(request, reply, 400, EditPage)(await kind.read(id, request.principal!), { values, errors }),
      });
    });
    app.get(`${kind.path}/:id/delete`, { schema: IdParam }, async (request, reply) => {
      const me = signedIn(request, reply);
      if (!me) return reply;
      return page(request, reply, 200, DeletePage)(await own(request.params.id, me));
    });
    app.post(`${kind.path}/:id/delete`, { schema: IdParam }, (request, reply) => {
      const { id } = request.params;
      return submitted(request, reply, {
        rules: {},
        async act(_values, me) {
          await own(id, me!);
          await kind.remove(id, me!);
          return kind.gone(id, me!);
        },
        again: async (_values, errors) =>
          page(request, reply, 400, DeletePage)(await kind.read(id, request.principal!), { errors }),
      });
    });
  }
}
