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
  /** Whether the reader is signed in (vote buttons then). */
  signedIn: boolean;
  /** Making a template (`treeTemplate`): the per-reader parts are left as places, listed here. */
  places?: TreeNode[];
  locked: boolean;
  markdown: Markdown;
  stubs: Map<string | null, Stub[]>;
}

/** What a vote is on: `c` a comment, `p` a post (the vote form's field name). */
export type VoteTarget = 'c' | 'p';

/**
 * A vote's buttons (with the score between them when `score` is given), or for a reader who is
 * not signed in the score alone. The buttons belong to the page's one vote form (`VOTE_FORM`,
 * in the layout with the reader's form token), so a comment carries no form and no token of
 * its own: a button sends its field `c` or `p` as `id:value`.
 */
export function voteHtml(
  target: VoteTarget,
  id: string,
  score: number | null,
  myVote: number | undefined,
  what: string,
  signedIn: boolean,
): string {
  if (!signedIn) return score === null ? '' : `<span class="votes">${scoreHtml(score)}</span>`;
  return `<span class="votes">${voteButtons(target, id, score, myVote, what)}</span>`;
}

/** The id of the page's vote form, which every vote button names. */
export const VOTE_FORM = 'vote';

const scoreHtml = (score: number) => `<span class="score" aria-label="score ${score}">${score}</span>`;

/** The buttons of a vote; the reader's vote is the pressed button (pressing it again takes the vote back). */
function voteButtons(target: VoteTarget, id: string, score: number | null, myVote: number | undefined, what: string) {
  const button = (value: 1 | -1, label: string, glyph: string) => {
    const pressed = myVote === value;
    return `<button form="${VOTE_FORM}" name="${target}" value="${escape(id)}:${pressed ? '0' : value}" aria-pressed="${pressed}" aria-label="${label} ${what}">${glyph}</button>`;
  };
  return `${button(1, 'Upvote', '&#9650;')}${score === null ? '' : scoreHtml(score)}${button(-1, 'Downvote', '&#9660;')}`;
}

/** A comment's vote buttons: its score is in its heading (`points`), not between them. */
const commentVotes = (node: TreeNode, myVote: number | undefined) =>
  voteButtons('c', node.id, null, myVote, 'this comment');

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
      ? `<span class="votes">${MARK}${ctx.places.push(node) - 1}--></span>`
      : voteHtml('c', node.id, null, node.myVote, 'this comment', ctx.signedIn)) +
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
 * A tree's HTML for signed-in readers, made once per kept tree answer: the bytes with every
 * comment's buttons unpressed, and where each comment's buttons are, so that a reader's page
 * is those bytes with only the buttons of the comments they voted on written again — a few
 * slices, not the tree written again. The buttons are found by a mark made at start (user
 * text cannot hold `<!--` after escaping and markdown, nor guess it).
 */
export interface TreeTemplate {
  bytes: Buffer;
  /** Each comment's buttons: where they are in `bytes` (start, end) and what they show. */
  places: Map<string, { start: number; end: number; node: TreeNode }>;
}
const MARK = `<!--${randomUUID()}:`;
const PLACE = new RegExp(`${MARK}(\\d+)-->`);

/** The template of `nodes` (as `treeHtml` writes them) for the signed-in reader context `ctx`. */
export function treeTemplate(nodes: TreeNode[], postId: string, ctx: TreeContext): TreeTemplate {
  const placed: TreeNode[] = [];
  const split = treeHtml(nodes, null, postId, { ...ctx, places: placed }).split(PLACE);
  const chunks: Buffer[] = [];
  const places: TreeTemplate['places'] = new Map();
  let at = 0;
  for (let i = 0; i < split.length; i++) {
    const isPlace = i % 2 === 1;
    const node = isPlace ? placed[Number(split[i])]! : null;
    const chunk = Buffer.from(node ? commentVotes(node, undefined) : split[i]!);
    if (node) places.set(node.id, { start: at, end: at + chunk.length, node });
    chunks.push(chunk);
    at += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, at), places };
}

/** The template for one reader: the kept bytes, with the buttons of the comments they voted on (id → 1 or -1) pressed. */
export function fillTree(template: TreeTemplate, votes: ReadonlyMap<string, number>): Buffer[] {
  const voted = [...votes]
    .map(([id, vote]) => ({ place: template.places.get(id), vote }))
    .filter((v): v is { place: NonNullable<typeof v.place>; vote: number } => v.place !== undefined && v.vote !== 0)
    .sort((a, b) => a.place.start - b.place.start);
  const out: Buffer[] = [];
  let from = 0;
  for (const { place, vote } of voted) {
    out.push(template.bytes.subarray(from, place.start), Buffer.from(commentVotes(place.node, vote)));
    from = place.end;
  }
  out.push(template.bytes.subarray(from));
  return out;
}
