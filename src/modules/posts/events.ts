/** The posts module's outbox events (the compiler checks producers and handlers against them). */
export interface PostCreated {
  postId: string;
  communityId: string;
  authorId: string;
}

export interface PostDeleted {
  postId: string;
}

declare module '../../platform/outbox/index.js' {
  interface OutboxTopics {
    'post.created': PostCreated;
    'post.deleted': PostDeleted;
  }
}
