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
  /** Whether the reader is signed in (vote buttons then, else the score alone). */
  signedIn: boolean;
  /** Making a template (`treeTemplate`): each comment's vote buttons are left as a place, listed here. */
  places?: TreeNode[];
  locked: boolean;
  markdown: Markdown;
  stubs: Map<string | null, Stub[]>;
  /**
   * The tree's sort, when the page's address names it (no cursor): a thread cut at the depth
   * limit then continues at its comment's own page with that sort, without the stub's cursor.
   */
  sort: string | null;
}

/** The id of the page's one vote form (`VoteForm`), which every vote button posts. */
export const VOTE_FORM = 'vote';

/**
 * Up and down buttons and the score between them; the buttons post the page's vote form (its
 * form token) to `action`. A reader who is not signed in sees the score alone.
 */
export function voteHtml(action: string, score: number, myVote: number | undefined, what: string, signedIn: boolean) {
  return `<span class="votes">${signedIn ? voteButtons(action, score, myVote, what) : scoreHtml(score)}</span>`;
}

const scoreHtml = (score: number) => `<span class="score" aria-label="score ${score}">${score}</span>`;

/**
 * The buttons and score of a vote; the reader's vote is the pressed button. Without the script
 * the answer goes back to the page the vote came from (its Referer), to the voted one's anchor.
 */
function voteButtons(action: string, score: number, myVote: number | undefined, what: string): string {
  const to = escape(action);
  const button = (value: 1 | -1, label: string, glyph: string) => {
    const pressed = myVote === value;
    return `<button form="${VOTE_FORM}" formaction="${to}" name="value" value="${pressed ? '0' : value}" aria-pressed="${pressed}" aria-label="${label} ${what}">${glyph}</button>`;
  };
  return `${button(1, 'Upvote', '&#9650;')}${scoreHtml(score)}${button(-1, 'Downvote', '&#9660;')}`;
}

/** A time as the pages show it: exact in `datetime` (UTC), to the minute in the text; the script makes it relative. */
export function timeParts(ms: number): { iso: string; text: string } {
  const iso = new Date(ms).toISOString();
  return { iso, text: `${iso.slice(0, 16).replace('T', ' ')} UTC` };
}

export function timeHtml(ms: number): string {
  const { iso, text } = timeParts(ms);
  return `<time datetime="${iso}">${text}</time>`;
}

/**
 * Load-more links of a level: the stubs whose parent is `parentId`. `fromFirst`: the level
 * shows none of the parent's replies, so with a known sort the link needs no cursor.
 */
export function moreHtml(ctx: TreeContext, parentId: string | null, postId: string, fromFirst = false): string {
  let out = '';
  for (const stub of ctx.stubs.get(parentId) ?? []) {
    const cursor = `cursor=${encodeURIComponent(stub.cursor)}`;
    const href =
      stub.parentId === null
        ? `/p/${postId}?${cursor}`
        : fromFirst && ctx.sort !== null
          ? `/comments/${stub.parentId}${ctx.sort === 'best' ? '' : `?sort=${ctx.sort}`}`
          : `/comments/${stub.parentId}?${cursor}`;
    const label = stub.parentId === null ? 'Load more comments' : 'Continue this thread';
    out += `<p class="more"><a href="${escape(href)}">${label} (${stub.count})</a></p>`;
  }
  return out;
}

const commentVote = (node: { id: string }) => `/comments/${node.id}/vote`;

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
    // The score is in the summary: a reader who is not signed in gets no second one here.
    (ctx.places
      ? `<span class="votes">${MARK}${ctx.places.push(node) - 1}--></span>`
      : ctx.signedIn
        ? voteHtml(commentVote(node), node.score, node.myVote, 'this comment', true)
        : '') +
    `<a href="/comments/${id}">permalink</a>` +
    (!ctx.locked && !node.deleted ? `<a href="/comments/${id}#reply">reply</a>` : '') +
    '</div>';
  if (node.replies.length > 0) {
    out += '<div class="replies">';
    for (const child of node.replies) out += commentHtml(child, ctx);
    out += '</div>';
  }
  return `${out}${moreHtml(ctx, node.id, node.postId, node.replies.length === 0)}</div></details>`;
}

/** The comments of a page, then the load-more links of their level. */
export function treeHtml(nodes: TreeNode[], parentId: string | null, postId: string, ctx: TreeContext): string {
  let out = '';
  for (const node of nodes) out += commentHtml(node, ctx);
  return out + moreHtml(ctx, parentId, postId);
}

/**
 * A tree's HTML for signed-in readers, made once per kept tree answer: the HTML with every
 * comment's vote buttons unpressed, and where each comment's buttons are in it, so a reader's
 * page is slices of it with their own pressed buttons between — not the tree written again.
 * A place is an HTML comment with a mark made at start (user text cannot hold `<!--` after
 * escaping and markdown, nor guess it).
 */
export interface TreeTemplate {
  html: Buffer;
  /** Each comment's vote buttons in `html`: from `start` to `end`. */
  places: Map<string, { start: number; end: number; score: number }>;
  bytes: number;
}
const MARK = `<!--${randomUUID()}:`;
const PLACE = new RegExp(`${MARK}(\\d+)-->`);

/** The template of `nodes` (as `treeHtml` writes them) for the reader context `ctx`. */
export function treeTemplate(nodes: TreeNode[], postId: string, ctx: TreeContext): TreeTemplate {
  const placed: TreeNode[] = [];
  const split = treeHtml(nodes, null, postId, { ...ctx, places: placed }).split(PLACE);
  const pieces: Buffer[] = [];
  const places: TreeTemplate['places'] = new Map();
  let at = 0;
  split.forEach((piece, i) => {
    const node = i % 2 === 1 ? placed[Number(piece)]! : null;
    const bytes = Buffer.from(node ? voteButtons(commentVote(node), node.score, undefined, 'this comment') : piece);
    if (node) places.set(node.id, { start: at, end: at + bytes.length, score: node.score });
    pieces.push(bytes);
    at += bytes.length;
  });
  return { html: Buffer.concat(pieces, at), places, bytes: at + places.size * 96 };
}

/**
 * The template for one reader, as slices of its HTML: their votes (comment id → 1 or -1)
 * pressed. The slices share the template's memory; only the pressed buttons are new.
 */
export function fillTree(template: TreeTemplate, votes: ReadonlyMap<string, number>): Buffer[] {
  const pressed: { start: number; end: number; html: Buffer }[] = [];
  for (const [id, vote] of votes) {
    const place = template.places.get(id);
    if (place && vote)
      pressed.push({
        ...place,
        html: Buffer.from(voteButtons(commentVote({ id }), place.score, vote, 'this comment')),
      });
  }
  pressed.sort((a, b) => a.start - b.start);
  const out: Buffer[] = [];
  let at = 0;
  for (const place of pressed) {
    out.push(template.html.subarray(at, place.start), place.html);
    at = place.end;
  }
  out.push(template.html.subarray(at));
  return out;
}
