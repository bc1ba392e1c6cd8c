import type { VoteValue } from '../votes/index.js';
import { encodeCursor } from '../../platform/http/index.js';
import type { CommentRow } from './queries.js';
import type { Node, Selection, Sort, Stub } from './tree.js';

/** A comment as the API shows it (api.md). */
export interface Comment {
  id: string;
  postId: string;
  parentId: string | null;
  author: string | null;
  body: string | null;
  score: number;
  upvotes: number;
  downvotes: number;
  depth: number;
  childCount: number;
  createdAt: number;
  editedAt: number | null;
  deleted: boolean;
  removed: boolean;
  myVote?: VoteValue;
}

/** A row as a comment: a deleted one shows neither author nor body, a removed one no body. */
export function fromRow(row: CommentRow, author: string | null): Comment {
  const deleted = row.deleted_at !== null;
  const removed = row.removed_at !== null;
  return {
    id: row.id,
    postId: row.post_id,
    parentId: row.parent_id,
    author: deleted ? null : author,
    body: deleted || removed ? null : row.body,
    score: row.upvotes - row.downvotes,
    upvotes: row.upvotes,
    downvotes: row.downvotes,
    depth: row.depth,
    childCount: row.child_count,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deleted,
    removed,
  };
}

const str = (s: string | null) => (s === null ? 'null' : JSON.stringify(s));

/** A node's comment as JSON text without the closing brace (kept on the node until it changes). */
function fragment(node: Node, postId: string): string {
  node.json ??=
    `{"id":${str(node.id)},"postId":${str(postId)},"parentId":${node.parent?.parent ? str(node.parent.id) : 'null'}` +
    `,"author":${node.deleted ? 'null' : str(node.author)},"body":${node.deleted || node.removed ? 'null' : str(node.body)}` +
    `,"score":${node.up - node.down},"upvotes":${node.up},"downvotes":${node.down},"depth":${node.depth}` +
    `,"childCount":${node.children.length},"createdAt":${node.createdAt},"editedAt":${node.editedAt ?? 'null'}` +
    `,"deleted":${node.deleted},"removed":${node.removed}`;
  return node.json;
}

/** A stub's cursor: the sort and the last sibling shown before the cut. */
export function stubCursor(sort: Sort, stub: Stub): string {
  return encodeCursor(stub.after ? [sort, ...stub.after] : [sort]);
}

/**
 * A selection as JSON text: `{"items":[...],"more":[...]}`, or — for a
 * subtree — the start comment itself with `replies` and `more`. Written
 * directly from the nodes' kept fragments: the largest answers of the API,
 * made without building and serializing an object per comment.
 */
export function writeSelection(selection: Selection, postId: string, sort: Sort, votes: ReadonlyMap<string, VoteValue> | null, subtree: Node | null): string {
  const parts: string[] = [];
  const write = (node: Node) => {
    parts.push(fragment(node, postId));
    if (votes) parts.push(`,"myVote":${votes.get(node.id) ?? 0}`);
    parts.push(',"replies":[');
    const replies = selection.shown.get(node) ?? [];
    replies.forEach((child, i) => {
      if (i > 0) parts.push(',');
      write(child);
    });
    parts.push(']}');
  };
  const more = selection.more
    .map((stub) => `{"parentId":${stub.parent.parent ? str(stub.parent.id) : 'null'},"count":${stub.count},"cursor":${str(stubCursor(sort, stub))}}`)
    .join(',');
  if (subtree) {
    parts.push(fragment(subtree, postId));
    if (votes) parts.push(`,"myVote":${votes.get(subtree.id) ?? 0}`);
    parts.push(',"replies":[');
  } else {
    parts.push('{"items":[');
  }
  selection.top.forEach((node, i) => {
    if (i > 0) parts.push(',');
    write(node);
  });
  parts.push(`],"more":[${more}]}`);
  return parts.join('');
}
