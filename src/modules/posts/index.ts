/**
 * Posts: text and link posts, stored ranks (hot, top, controversial) with
 * keyset listings per community and across subscriptions (the feed), votes
 * with karma, soft delete, and the moderator actions on posts (removal,
 * lock, reports). Search hydrates results through `visibleByIds`.
 */
export { createPostsModule, type PostsModule } from './module.js';
export { PostSchema, VoteAnswer, VoteBody, VoteValue, type PostLimits } from './routes.js';
export type { Post } from './presenter.js';
export { controversy, wilson } from './ranks.js';
export type { PostCreated, PostDeleted } from './events.js';
