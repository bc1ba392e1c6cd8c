/**
 * Communities: creation, listing, subscriptions (exact subscriber counts) and
 * moderator membership. Other modules use `ref` (id and name by name),
 * `canModerate`, `subscribedIds`, `addModerator`/`removeModerator` (in their
 * transaction) and `byIds` (search results).
 */
export {
  createCommunitiesService as createCommunitiesModule,
  type CommunitiesService as CommunitiesModule,
  type Community,
  type CommunityRef,
} from './service.js';
export { communitiesRoutes, CommunityName, CommunitySchema } from './routes.js';
export type { CommunityCreated } from './events.js';
