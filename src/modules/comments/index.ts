/**
 * Comments: threaded comments on posts (create, edit, soft delete, votes,
 * moderator removal, reports), the tree reads served from in-memory trees
 * kept exact by each post's comment change number (`tree.ts`), the inbox
 * of replies and mentions, and the import of Reddit comment trees.
 */
export { createCommentsModule, type CommentsModule } from './module.js';
export { parseRedditLines, type RedditThreadMeta, type ImportReport } from './importer.js';
export { CommentSchema } from './routes.js';
export type { Comment } from './presenter.js';
export type { InboxItem } from './inbox.js';
export { SORTS as COMMENT_SORTS, type Sort as CommentSort } from './tree.js';
export { PAGE_TREE_LIMIT, TREE_DEPTH } from './service.js';
