import { pick } from '../../platform/pick.js';
import { postsRoutes, type PostsRoutes } from './routes.js';
import { createPostsService, type PostsDeps, type PostsService } from './service.js';

/** What other modules may ask of posts; the rest is behind the routes. */
export interface PostsModule {
  /** Visible posts by id, as the public answer (search results). */
  visibleByIds: PostsService['visibleByIds'];
  communityIdOf: PostsService['communityIdOf'];
  /** For comments: the rules a new comment on the post meets, as guards of its insert. */
  commentGuards: PostsService['commentGuards'];
  /** For comments: the post's comment change number — taken, read, and as a value in a statement. */
  commentsChanged: PostsService['commentsChanged'];
  commentVersion: PostsService['commentVersion'];
  commentVersionValue: PostsService['commentVersionValue'];
  /** For the comment importer: a post with its original time and counts. */
  insertImported: PostsService['insertImported'];
  /** For the web pages: what the HTTP routes offer, called in-process. */
  create: PostsService['create'];
  get: PostsService['get'];
  feed: PostsService['feed'];
  community: PostsService['community'];
  byAuthor: PostsService['byAuthor'];
  vote: PostsService['vote'];
  edit: PostsService['edit'];
  remove: PostsService['remove'];
  report: PostsService['report'];
  removeAsModerator: PostsService['removeAsModerator'];
  restoreAsModerator: PostsService['restoreAsModerator'];
  setLocked: PostsService['setLocked'];
  routes: PostsRoutes;
}

export function createPostsModule(deps: PostsDeps): PostsModule {
  const service = createPostsService(deps);
  return {
    ...pick(service, [
      'visibleByIds',
      'communityIdOf',
      'commentGuards',
      'commentsChanged',
      'commentVersion',
      'commentVersionValue',
      'insertImported',
      'create',
      'get',
      'feed',
      'community',
      'byAuthor',
      'vote',
      'edit',
      'remove',
      'report',
      'removeAsModerator',
      'restoreAsModerator',
      'setLocked',
    ]),
    routes: (auth, limits) => postsRoutes(service, auth, limits),
  };
}
