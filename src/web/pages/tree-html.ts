import type { Markdown } from '../markdown.js';
import type { Comment } from '../../modules/comments/index.js';

/** A comment of a tree answer, with the replies shown under it. */
export type TreeNode = Comment & { replies: TreeNode[] };
/** A stub: more comments under `parentId` (null: more top-level ones), reached with `cursor`. */
export interface Stub {
  parentId: string | null;
  count: number;
  cursor: string;
}

/**
 * The comment tree as HTML text. It is the post page's hot part (hundreds of comments a
 * page), so it is written straight to a string instead of through components; the markup
 * is the same as the components' (`Votes`, `Time`), and every value passes `escape`.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export interface TreeContext {
  /** The reader's form token; null for a reader who is not signed in (no vote forms then). */
  csrf: string | null;
  /** The page's own path (votes come back to it). */
  path: string;
  locked: boolean;
  markdown: Markdown;
  stubs: Map<string | null, Stub[]>;
}

export function voteHtml(
  action: string,
  score: number,
  myVote: number | undefined,
  what: string,
  csrf: string | null,
  path: string,
): string {
  const scoreHtml = `<span class="score" aria-label="score ${score}">${score}</span>`;
  if (csrf === null) return `<span class="votes">${scoreHtml}</span>`;
  const button = (value: 1 | -1, label: string, glyph: string) => {
    const pressed = myVote === value;
    return `<button type="submit" name="value" value="${pressed ? '0' : value}" class="${pressed ? 'vote on' : 'vote'}" aria-pressed="${pressed}" aria-label="${label} ${what}">${glyph}</button>`;
  };
  return (
    `<form method="post" action="${escape(action)}" class="votes"><input type="hidden" name="_csrf" value="${escape(csrf)}"/>` +
    `<input type="hidden" name="back" value="${escape(path)}"/>${button(1, 'Upvote', '▲')}${scoreHtml}${button(-1, 'Downvote', '▼')}</form>`
  );
}

export function timeHtml(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}" title="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** Load-more links of a level: the stubs whose parent is `parentId`. */
export function moreHtml(stubs: Map<string | null, Stub[]>, parentId: string | null, postId: string): string {
  let out = '';
  for (const stub of stubs.get(parentId) ?? []) {
    const cursor = encodeURIComponent(stub.cursor);
    const href =
      stub.parentId === null ? `/p/${postId}?cursor=${cursor}` : `/comments/${stub.parentId}?cursor=${cursor}`;
    const label = stub.parentId === null ? 'Load more comments' : 'Continue this thread';
    out += `<p class="more"><a href="${escape(href)}" data-more="${escape(stub.parentId ?? '')}">${label} (${stub.count})</a></p>`;
  }
  return out;
}

function bodyHtml(node: TreeNode, markdown: Markdown): string {
  if (node.deleted) return '<p class="muted">[deleted]</p>';
  if (node.removed && node.body === null) return '<p class="muted">[removed by a moderator]</p>';
  return `<div class="md">${markdown.render(`m:${node.id}:${node.editedAt ?? 0}`, node.body ?? '')}</div>`;
}

/** One comment and its replies; collapsing is the browser's own `<details>`, so it needs no script. */
export function commentHtml(node: TreeNode, ctx: TreeContext): string {
  const id = escape(node.id);
  let out =
    `<details open class="comment" id="c-${id}"><summary><span class="author">${escape(node.author ?? '[deleted]')}</span> · ` +
    `<span class="points">${plural(node.score, 'point')}</span> · ${timeHtml(node.createdAt)}` +
    `${node.editedAt !== null ? ' · edited' : ''}<span class="collapsed-count"> (${plural(node.childCount, 'reply', 'replies')})</span></summary>` +
    `<div class="comment-body">${bodyHtml(node, ctx.markdown)}<div class="actions">` +
    voteHtml(`/comments/${node.id}/vote`, node.score, node.myVote, 'this comment', ctx.csrf, ctx.path) +
    `<a href="/comments/${id}">permalink</a>` +
    (!ctx.locked && !node.deleted ? `<a href="/comments/${id}#reply" data-reply="${id}">reply</a>` : '') +
    '</div>';
  if (node.replies.length > 0) {
    out += '<div class="replies">';
    for (const child of node.replies) out += commentHtml(child, ctx);
    out += '</div>';
  }
  return `${out}${moreHtml(ctx.stubs, node.id, node.postId)}</div></details>`;
}

/** The comments of a page, then the load-more links of their level. */
export function treeHtml(nodes: TreeNode[], parentId: string | null, postId: string, ctx: TreeContext): string {
  let out = '';
  for (const node of nodes) out += commentHtml(node, ctx);
  return out + moreHtml(ctx.stubs, parentId, postId);
}
