import { randomUUID } from 'node:crypto';
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
  /** Making a template (`treeTemplate`): the per-reader parts are left as places, listed here. */
  places?: TreeNode[];
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
): string {
  if (csrf === null) return `<span class="votes">${scoreHtml(score)}</span>`;
  return voteForm(action, escape(csrf), voteButtons(score, myVote, what));
}

const scoreHtml = (score: number) => `<span class="score" aria-label="score ${score}">${score}</span>`;

/**
 * A vote form around `buttons`, with the (escaped) form token `token`. Without the script the
 * answer goes back to the page the vote came from (its Referer), to the voted one's anchor.
 */
const voteForm = (action: string, token: string, buttons: string) =>
  `<form method="post" action="${escape(action)}" class="votes"><input type="hidden" name="_csrf" value="${token}"/>${buttons}</form>`;

/** The buttons and score of a vote form; the reader's vote is the pressed button. */
function voteButtons(score: number, myVote: number | undefined, what: string): string {
  const button = (value: 1 | -1, label: string, glyph: string) => {
    const pressed = myVote === value;
    return `<button name="value" value="${pressed ? '0' : value}" class="${pressed ? 'vote on' : 'vote'}" aria-pressed="${pressed}" aria-label="${label} ${what}">${glyph}</button>`;
  };
  return `${button(1, 'Upvote', '&#9650;')}${scoreHtml(score)}${button(-1, 'Downvote', '&#9660;')}`;
}

export function timeHtml(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
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
    (ctx.places
      ? voteForm(`/comments/${node.id}/vote`, `${MARK}t-->`, `${MARK}${ctx.places.push(node) - 1}-->`)
      : voteHtml(`/comments/${node.id}/vote`, node.score, node.myVote, 'this comment', ctx.csrf)) +
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

/**
 * A tree's HTML for signed-in readers, made once per kept tree answer: bytes with places
 * left for what differs between readers — their form token and their votes — so a page is
 * the parts put together, not the tree written again. A place is an HTML comment with a
 * mark made at start (user text cannot hold `<!--` after escaping and markdown, nor guess it).
 */
export interface TreeTemplate {
  /** The HTML between the places: `parts[i]`, then `places[i]`, then `parts[i + 1]`. */
  parts: Buffer[];
  /** `token`: the reader's form token; else a comment's vote buttons (`neutral`: no vote of the reader's). */
  places: ('token' | { id: string; score: number; neutral: Buffer })[];
  bytes: number;
}
const MARK = `<!--${randomUUID()}:`;
const PLACE = new RegExp(`${MARK}(t|\\d+)-->`);

/** The template of `nodes` (as `treeHtml` writes them) for the reader context `ctx` (its `csrf` unused). */
export function treeTemplate(nodes: TreeNode[], postId: string, ctx: TreeContext): TreeTemplate {
  const placed: TreeNode[] = [];
  const split = treeHtml(nodes, null, postId, { ...ctx, places: placed }).split(PLACE);
  const template: TreeTemplate = { parts: [], places: [], bytes: 0 };
  for (let i = 0; i < split.length; i += 2) {
    const part = Buffer.from(split[i]!);
    template.parts.push(part);
    template.bytes += part.length;
    const at = split[i + 1];
    if (at === undefined) break;
    if (at === 't') template.places.push('token');
    else {
      const node = placed[Number(at)]!;
      const neutral = Buffer.from(voteButtons(node.score, undefined, 'this comment'));
      template.places.push({ id: node.id, score: node.score, neutral });
      template.bytes += neutral.length + 64;
    }
  }
  return template;
}

/** The template filled in for one reader: their form token (escaped, as bytes) and their votes (comment id → 1 or -1). */
export function fillTree(template: TreeTemplate, token: Buffer, votes: ReadonlyMap<string, number>): Buffer[] {
  const out: Buffer[] = [];
  template.parts.forEach((part, i) => {
    out.push(part);
    const place = template.places[i];
    if (place === undefined) return;
    if (place === 'token') return out.push(token);
    const vote = votes.get(place.id);
    out.push(vote ? Buffer.from(voteButtons(place.score, vote, 'this comment')) : place.neutral);
  });
  return out;
}
