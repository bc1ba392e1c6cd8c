import type { CommunitiesModule } from '../communities/index.js';
import { createImporter, type Importer } from './importer.js';
import { createInbox, type Inbox } from './inbox.js';
import { commentsRoutes, type CommentsRoutes } from './routes.js';
import { createCommentsService, type CommentsDeps, type CommentsService } from './service.js';

/** What the rest of Agora may ask of comments; the rest is behind the routes. */
export interface CommentsModule {
  /** Comments by id, as the public answer (search results). */
  byIds: CommentsService['byIds'];
  /** The Reddit import (`agora import reddit`). */
  importer: Importer;
  /** For the web pages: what the HTTP routes offer, called in-process. */
  create: CommentsService['create'];
  tree: CommentsService['tree'];
  sharedTree: CommentsService['sharedTree'];
  subtree: CommentsService['subtree'];
  vote: CommentsService['vote'];
  edit: CommentsService['edit'];
  remove: CommentsService['remove'];
  byAuthor: CommentsService['byAuthor'];
  report: CommentsService['report'];
  removeAsModerator: CommentsService['removeAsModerator'];
  restoreAsModerator: CommentsService['restoreAsModerator'];
  /** The inbox of replies and mentions, for the web pages. */
  inbox: Pick<Inbox, 'list' | 'markRead' | 'unreadCount'>;
  routes: CommentsRoutes;
  /** Subscribes the inbox to new comments (outbox). */
  start(): void;
}

export function createCommentsModule(deps: CommentsDeps & { communities: CommunitiesModule }): CommentsModule {
  const service = createCommentsService(deps);
  const inbox = createInbox({
    ...deps,
    comments: (ids, principal, shownOnly) => service.byIds(ids, principal, shownOnly),
  });
  const importer = createImporter({ ...deps, threadChanged: service.threadChanged });
  return {
    byIds: (ids, principal) => service.byIds(ids, principal),
    importer,
    create: service.create,
    tree: service.tree,
    sharedTree: service.sharedTree,
    subtree: service.subtree,
    vote: service.vote,
    edit: service.edit,
    remove: service.remove,
    byAuthor: service.byAuthor,
    report: service.report,
    removeAsModerator: service.removeAsModerator,
    restoreAsModerator: service.restoreAsModerator,
    inbox: { list: inbox.list, markRead: inbox.markRead, unreadCount: inbox.unreadCount },
    routes: (auth, limits) => commentsRoutes(service, inbox, auth, limits),
    start: () => inbox.start(),
  };
}
