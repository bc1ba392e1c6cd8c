/**
 * Communities: creation, listing, subscriptions (exact subscriber counts) and
 * moderator membership. Other modules use what `CommunitiesModule` offers
 * (`module.ts`).
 */
export { createCommunitiesModule, type CommunitiesModule } from './module.js';
export type { Community, CommunityRef } from './service.js';
export { CommunityName, CommunitySchema } from './routes.js';
export type { CommunityCreated } from './events.js';
