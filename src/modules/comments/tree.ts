import { controversy, wilson } from '../posts/index.js';
import { Heap } from '../../platform/heap.js';
import { sortInSlices } from '../../platform/slices.js';
import type { CommentRow } from './queries.js';

/**
 * A post's comments as an in-memory tree: every node knows its children,
 * its number of descendants, and — per sort, made when first asked and then
 * kept in order as votes and replies arrive — its children in that order.
 * A read walks only what it returns: a best-first selection over a heap of
 * at most one candidate per expanded parent (`select`).
 */

export const SORTS = ['best', 'top', 'new', 'old', 'controversial'] as const;
export type Sort = (typeof SORTS)[number];
const S = { best: 0, top: 1, new: 2, old: 3, controversial: 4 } as const;

/** A position among siblings: the sort's rank, the creation time, the id (api.md's order and tie-breaks). */
export type Key = readonly [rank: number, createdAt: number, id: string];

export class Node {
  readonly id: string;
  readonly parent: Node | null;
  readonly depth: number;
  readonly createdAt: number;
  authorId: string | null = null;
  author: string | null = null;
  body: string | null = null;
  up = 0;
  down = 0;
  editedAt: number | null = null;
  deleted = false;
  removed = false;
  /** Ranks by sort index (best, top, new/old use time only, controversial). */
  best = 0;
  controversy = 0;
  readonly children: Node[] = [];
  /** Descendants (not counting this node). */
  size = 0;
  /** Children in each sort's order, made when first asked. */
  readonly sorted: (Node[] | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  /** The public JSON of this comment without its closing brace (made when first shown, dropped on change). */
  json: string | undefined;

  constructor(id: string, parent: Node | null, depth: number, createdAt: number) {
    this.id = id;
    this.parent = parent;
    this.depth = depth;
    this.createdAt = createdAt;
  }

  rank(sort: Sort): number {
    switch (sort) {
      case 'best':
        return this.best;
      case 'top':
        return this.up - this.down;
      case 'controversial':
        return this.controversy;
      default:
        return 0;
    }
  }

  key(sort: Sort): Key {
    return [this.rank(sort), this.createdAt, this.id];
  }
}

/** What the sorts order by: a node, or a cursor's key. */
interface Ranked {
  readonly id: string;
  readonly createdAt: number;
  rank(sort: Sort): number;
}

/** Negative when a comes first in the sort. */
function compare(sort: Sort, a: Ranked, b: Ranked): number {
  if (sort === 'old') return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return b.rank(sort) - a.rank(sort) || b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** A cursor's key as something `compare` orders. */
const keyed = ([rank, createdAt, id]: Key): Ranked => ({ id, createdAt, rank: () => rank });

/** Index of the first node of `list` that comes after `after`. */
function firstAfter(sort: Sort, list: readonly Node[], after: Ranked): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(sort, list[mid] as Node, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(sort: Sort, list: Node[], node: Node): void {
  list.splice(firstAfter(sort, list, node), 0, node);
}

/**
 * Children lists longer than this are not sorted inside a read: `sorted`
 * asks for them with `NeedsSort`, and the caller sorts them in slices
 * (`Thread.sortInSlices`) before selecting again.
 */
export const SYNC_SORT_MAX = 4096;

/** A node's children must first be sorted in slices, out of the read. */
export class NeedsSort extends Error {
  constructor(
    readonly node: Node,
    readonly sort: Sort,
  ) {
    super('children to sort in slices');
  }
}

/** A node's own estimated bytes (object, lists, map entry), and per character of its body (the string and the JSON made of it). */
const NODE_BYTES = 400;
const TEXT_BYTES = 4;

/** Rows with every parent before its children: bucketed by depth, in linear time. */
export function parentsFirst(rows: readonly CommentRow[]): CommentRow[] {
  const byDepth: CommentRow[][] = [];
  for (const row of rows) (byDepth[row.depth] ??= []).push(row);
  return byDepth.flat();
}

export class Thread {
  readonly postId: string;
  /** The post's comment change number this tree reflects. */
  version: number;
  readonly root: Node;
  readonly nodes = new Map<string, Node>();
  /** Selections made from this version of the tree, with their anonymous answer's bytes once written (dropped by every change). */
  readonly answers = new Map<
    string,
    { selection: Selection; text: Buffer | undefined; voted?: { parts: Buffer[]; ids: string[] } }
  >();
  /** On a single writer: a committed change not yet read back. */
  stale = false;
  /** Counts every apply (a slice of a first load included): work done across turns checks it did not move. */
  changes = 0;
  /** Estimated bytes of the nodes (with their bodies and the JSON made of them) and of the kept answers' text. */
  nodeBytes = 0;
  answerBytes = 0;

  constructor(postId: string, version: number) {
    this.postId = postId;
    this.version = version;
    this.root = new Node('', null, -1, 0);
  }

  /** Children of a node in a sort's order; a long list not sorted yet is `NeedsSort`, unless `now`. */
  sorted(node: Node, sort: Sort, now = false): Node[] {
    const i = S[sort];
    let list = node.sorted[i];
    if (!list) {
      if (node.children.length > SYNC_SORT_MAX && !now) throw new NeedsSort(node, sort);
      list = [...node.children].sort((a, b) => compare(sort, a, b));
      node.sorted[i] = list;
    }
    return list;
  }

  /**
   * Sorts a node's children for a sort in slices (other requests run in
   * between). Kept only if the tree did not change meanwhile; false
   * otherwise (the caller may try again).
   */
  async sortInSlices(node: Node, sort: Sort): Promise<boolean> {
    const version = this.version;
    const changes = this.changes;
    const list = await sortInSlices(node.children, (a: Node, b: Node) => compare(sort, a, b));
    if (this.version !== version || this.changes !== changes) return false;
    node.sorted[S[sort]] ??= list;
    return true;
  }

  /**
   * Applies rows read from the store (a first load or the changes since
   * `version`), parents before children; usernames already resolved.
   * Returns false when a row's parent is unknown (the caller reloads).
   */
  apply(rows: readonly CommentRow[], version: number, usernames: ReadonlyMap<string, string>): boolean {
    if (!this.applyInOrder(parentsFirst(rows), usernames)) return false;
    this.version = version;
    return true;
  }

  /**
   * Applies rows already in parents-first order (`parentsFirst`), leaving the
   * version as it is: a first load applies its rows in slices, then sets the
   * version it read them at. False when a row's parent is unknown.
   */
  applyInOrder(rows: readonly CommentRow[], usernames: ReadonlyMap<string, string>): boolean {
    this.changes++;
    this.answers.clear();
    this.answerBytes = 0;
    for (const row of rows) {
      const known = this.nodes.get(row.id);
      if (known) this.update(known, row, usernames);
      else if (!this.add(row, usernames)) return false;
    }
    return true;
  }

  private add(row: CommentRow, usernames: ReadonlyMap<string, string>): boolean {
    const parent = row.parent_id === null ? this.root : this.nodes.get(row.parent_id);
    if (!parent) return false;
    const node = new Node(row.id, parent, row.depth, row.created_at);
    this.nodeBytes += NODE_BYTES;
    this.fill(node, row, usernames);
    parent.children.push(node);
    parent.json = undefined; // its childCount changed
    SORTS.forEach((sort, i) => {
      const list = parent.sorted[i];
      if (list) insertSorted(sort, list, node);
    });
    for (let up: Node | null = parent; up; up = up.parent) up.size++;
    this.nodes.set(node.id, node);
    return true;
  }

  private update(node: Node, row: CommentRow, usernames: ReadonlyMap<string, string>): void {
    const parent = node.parent as Node;
    if (row.upvotes !== node.up || row.downvotes !== node.down) {
      // Votes move a node among its siblings in the rank sorts (not in new/old).
      const moving = (['best', 'top', 'controversial'] as const).filter((sort) => parent.sorted[S[sort]] !== undefined);
      for (const sort of moving) {
        const list = parent.sorted[S[sort]] as Node[];
        list.splice(list.indexOf(node), 1);
      }
      this.fill(node, row, usernames);
      for (const sort of moving) insertSorted(sort, parent.sorted[S[sort]] as Node[], node);
    } else {
      this.fill(node, row, usernames);
    }
    node.json = undefined;
  }

  private fill(node: Node, row: CommentRow, usernames: ReadonlyMap<string, string>): void {
    if (row.author_id !== node.authorId || node.author === null) {
      node.authorId = row.author_id;
      node.author = row.author_id === null ? null : (usernames.get(row.author_id) ?? null);
    }
    this.nodeBytes += TEXT_BYTES * ((row.body?.length ?? 0) - (node.body?.length ?? 0));
    node.body = row.body;
    node.up = row.upvotes;
    node.down = row.downvotes;
    node.best = wilson(row.upvotes, row.downvotes);
    node.controversy = controversy(row.upvotes, row.downvotes);
    node.editedAt = row.edited_at;
    node.deleted = row.deleted_at !== null;
    node.removed = row.removed_at !== null;
  }

  /** Number of comments in the thread. */
  get total(): number {
    return this.root.size;
  }

  /** Estimated bytes the tree holds (for the memory budget). */
  get bytes(): number {
    return this.nodeBytes + this.answerBytes;
  }
}

/** Where a selection starts: under `parent`, with the siblings after `after` (all when null). */
export interface Start {
  parent: Node;
  after: Key | null;
}

/** A cut-off part: the rest of `parent`'s children from `from` on in the sort, with their subtrees. */
export interface Stub {
  parent: Node;
  count: number;
  /** The last sibling shown before the cut (null: none shown, start at the first). */
  after: Key | null;
}

export interface Selection {
  /** The comments kept, each followed by its shown replies (depth-first, each level in sort order). */
  shown: Map<Node, Node[]>;
  /** The shown children of the start. */
  top: Node[];
  more: Stub[];
}

interface Candidate {
  list: Node[];
  index: number;
  node: Node;
}

/**
 * The best `limit` comments under `start` by `sort`, over the whole
 * subtree, a parent always before its children, `depth` levels at most:
 * a heap holds the next unshown child of every expanded parent, and each
 * step takes the best of them. Cost: O(limit · log limit) plus, per stub,
 * the shown siblings before it — never the size of the thread.
 */
export function select(thread: Thread, start: Start, sort: Sort, limit: number, depth: number): Selection {
  const heap = new Heap<Candidate>((a, b) => compare(sort, a.node, b.node) < 0);
  const offer = (list: Node[], index: number) => {
    const node = list[index];
    if (node) heap.push({ list, index, node });
  };

  const shown = new Map<Node, Node[]>();
  const top: Node[] = [];
  const more: Stub[] = [];
  // depth 0: nothing below the start is shown; its children (from the cursor on) stay in the heap as one stub.
  const first = thread.sorted(start.parent, sort);
  offer(first, start.after ? firstAfter(sort, first, keyed(start.after)) : 0);
  const baseDepth = start.parent.depth;
  let count = 0;
  while (depth > 0 && heap.size > 0 && count < limit) {
    const { list, index, node } = heap.pop() as Candidate;
    count++;
    const siblings = node.parent === start.parent ? top : (shown.get(node.parent as Node) as Node[]);
    siblings.push(node);
    shown.set(node, []);
    offer(list, index + 1);
    if (node.children.length === 0) continue;
    if (node.depth - baseDepth < depth) offer(thread.sorted(node, sort), 0);
    else more.push({ parent: node, count: node.size, after: null });
  }
  for (const { list, index, node } of heap.remaining()) {
    const parent = node.parent as Node;
    let rest = parent === thread.root ? thread.total : parent.size;
    for (let i = 0; i < index; i++) rest -= 1 + (list[i] as Node).size;
    more.push({ parent, count: rest, after: index > 0 ? (list[index - 1] as Node).key(sort) : null });
  }
  return { shown, top, more };
}
