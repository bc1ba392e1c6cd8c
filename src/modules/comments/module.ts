import type { FastifyPluginAsync } from 'fastify';
import type { CommunitiesModule } from '../communities/index.js';
import type { AuthHooks } from '../../platform/http/index.js';
import { createImporter, type Importer } from './importer.js';
import { createInbox, type Inbox } from './inbox.js';
import { commentsRoutes, type CommentLimits } from './routes.js';
import { createCommentsService, type CommentsDeps, type CommentsService } from './service.js';

export interface CommentsModule {
  service: CommentsService;
  inbox: Inbox;
  importer: Importer;
  routes(auth: AuthHooks, limits: CommentLimits): FastifyPluginAsync;
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
    service,
    inbox,
    importer,
    routes: (auth, limits) => commentsRoutes(service, inbox, auth, limits),
    start: () => inbox.start(),
  };
}
