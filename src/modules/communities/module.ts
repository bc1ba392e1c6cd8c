import { pick } from '../../platform/pick.js';
import { communitiesRoutes, type CommunitiesRoutes } from './routes.js';
import { createCommunitiesService, type CommunitiesDeps, type CommunitiesService } from './service.js';

/** What other modules may ask of communities; the rest is behind the routes. */
export interface CommunitiesModule {
  /** Id and name by name (not_found: none); kept, as a community is never renamed. */
  ref: CommunitiesService['ref'];
  refsByIds: CommunitiesService['refsByIds'];
  /** Communities by id, as the public answer (search results). */
  byIds: CommunitiesService['byIds'];
  /** A community by name, as the public answer. */
  get: CommunitiesService['get'];
  create: CommunitiesService['create'];
  canModerate: CommunitiesService['canModerate'];
  /** For the web pages: whether to show moderation tools (a kept list; never for a decision). */
  showsModeration: CommunitiesService['showsModeration'];
  subscribedIds: CommunitiesService['subscribedIds'];
  /** Moderator membership, in the caller's transaction (moderation records it in the modlog). */
  addModerator: CommunitiesService['addModerator'];
  removeModerator: CommunitiesService['removeModerator'];
  /** For the web pages: the directory and the subscribe buttons. */
  list: CommunitiesService['list'];
  subscribe: CommunitiesService['subscribe'];
  unsubscribe: CommunitiesService['unsubscribe'];
  routes: CommunitiesRoutes;
}

export function createCommunitiesModule(deps: CommunitiesDeps): CommunitiesModule {
  const service = createCommunitiesService(deps);
  return {
    ...pick(service, [
      'ref',
      'refsByIds',
      'byIds',
      'get',
      'create',
      'canModerate',
      'showsModeration',
      'subscribedIds',
      'addModerator',
      'removeModerator',
      'list',
      'subscribe',
      'unsubscribe',
    ]),
    routes: (auth) => communitiesRoutes(service, auth),
  };
}
