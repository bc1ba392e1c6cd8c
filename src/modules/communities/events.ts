/** The communities module's outbox events (the compiler checks producers and handlers against them). */
export interface CommunityCreated {
  communityId: string;
  name: string;
  creatorId: string;
}

declare module '../../platform/outbox/index.js' {
  interface OutboxTopics {
    'community.created': CommunityCreated;
  }
}
