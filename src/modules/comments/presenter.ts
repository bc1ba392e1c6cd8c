import type { VoteValue } from '../votes/index.js';
import type { Cursors } from '../../platform/cursor.js';
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

/** What a comment is shown from (a stored row or a kept tree node): its fields before the hiding rule, with vote counts. */
type Shown = Omit<Comment, 'score' | 'upvotes' | 'downvotes' | 'myVote'> & { up: number; down: number };

/** The one rule of what a comment shows: a deleted one neither author nor body, a removed one no body. */
function present(c: Shown): Comment {
  return {
    id: c.id,
    postId: c.postId,
    parentId: c.parentId,
    author: c.deleted ? null : c.author,
    body: c.deleted || c.removed ? null : c.body,
    score: c.up - c.down,
    upvotes: c.up,
    downvotes: c.down,
    depth: c.depth,
    childCount: c.childCount,
    createdAt: c.createdAt,
    editedAt: c.editedAt,
    deleted: c.deleted,
    removed: c.removed,
  };
}

export function fromRow(row: CommentRow, author: string | null): Comment {
  return present({
    id: row.id,
    postId: row.post_id,
    parentId: row.parent_id,
    author,
    body: row.body,
    up: row.upvotes,
    down: row.downvotes,
    depth: row.depth,
    childCount: row.child_count,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deleted: row.deleted_at !== null,
    removed: row.removed_at !== null,
  });
}

/** A node's comment as JSON text without the closing brace (kept on the node until it changes). */
function fragment(node: Node, postId: string): string {
  node.json ??= JSON.stringify(
    present({
      ...node,
      postId,
      parentId: node.parent?.parent ? node.parent.id : null,
      childCount: node.children.length,
    }),
  ).slice(0, -1);
  return node.json;
}

const str = (s: string | null) => (s === null ? 'null' : JSON.stringify(s));

/**
 * A stub's cursor: the sort and the last sibling shown before the cut, for the
 * stub's parent only (its comment id, or the post's id for top-level comments):
 * `stubList` names the list, from the parent's first child or after a sibling.
 */
export function stubCursor(cursors: Cursors, sort: Sort, stub: Stub, postId: string): string {
  const parent = stub.parent.parent ? stub.parent.id : postId;
  return stub.after
    ? cursors.encode(stubList(parent, true), [sort, ...stub.after])
    : cursors.encode(stubList(parent, false), [sort]);
}
export const stubList = (parent: string, after: boolean) => `comments:${after ? 'after' : 'from-first'}:${parent}`;

/**
 * A selection as JSON text: `{"items":[...],"more":[...]}`, or — for a
 * subtree — the start comment itself with `replies` and `more`. Written
 * directly from the nodes' kept fragments: the largest answers of the API,
 * made without building and serializing an object per comment.
 */
export function writeSelection(
  cursors: Cursors,
  selection: Selection,
  postId: string,
  sort: Sort,
  subtree: Node | null,
): string {
  return selectionParts(cursors, selection, postId, sort, subtree, false).text[0]!;
}

/**
 * The selection's JSON text in pieces, cut where each comment's `myVote`
 * goes when `cut` (the text is `text[0]`, comment `ids[0]`'s vote,
 * `text[1]`, …): kept once, filled per reader.
 */
export function selectionParts(
  cursors: Cursors,
  selection: Selection,
  postId: string,
  sort: Sort,
  subtree: Node | null,
  cut: boolean,
): { text: string[]; ids: string[] } {
  const text: string[] = [];
  const ids: string[] = [];
  let parts: string[] = [];
  const vote = (node: Node) => {
    if (!cut) return;
    text.push(parts.join(''));
    parts = [];
    ids.push(node.id);
  };
  const write = (node: Node) => {
    parts.push(fragment(node, postId));
    vote(node);
    parts.push(',"replies":[');
    const replies = selection.shown.get(node) ?? [];
    replies.forEach((child, i) => {
      if (i > 0) parts.push(',');
      write(child);
    });
    parts.push(']}');
  };
  const more = selection.more
    .map(
      (stub) =>
        `{"parentId":${stub.parent.parent ? str(stub.parent.id) : 'null'},"count":${stub.count},"cursor":${str(stubCursor(cursors, sort, stub, postId))}}`,
    )
    .join(',');
  if (subtree) {
    parts.push(fragment(subtree, postId));
    vote(subtree);
    parts.push(',"replies":[');
  } else {
    parts.push('{"items":[');
  }
  selection.top.forEach((node, i) => {
    if (i > 0) parts.push(',');
    write(node);
  });
  parts.push(`],"more":[${more}]}`);
  text.push(parts.join(''));
  return { text, ids };
}
