import type { AccountsModule } from '../accounts/index.js';
import { createSharedReadCache } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import type { MemoryBudget } from '../../platform/memory.js';
import type { Principal } from '../../platform/principal.js';
import type { Cursors } from '../../platform/cursor.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Outbox } from '../../platform/outbox/index.js';
import type { Store } from '../../platform/store/index.js';
import type { Comment } from './presenter.js';
import * as q from './queries.js';

declare module '../../platform/outbox/index.js' {
  interface OutboxTopics {
    'comment.created': CommentCreated;
  }
}

/** The comments module's outbox event (the compiler checks its producer and handler against it). */
export interface CommentCreated {
  commentId: string;
  postId: string;
  authorId: string;
  /** The parent comment (null: top level); its author is told, read at delivery. */
  parentId?: string | null;
  /** Events recorded before `parentId` carried the parent's author. */
  parentAuthorId?: string | null;
  mentions: string[];
}

export interface InboxItem {
  id: string;
  type: 'reply' | 'mention';
  read: boolean;
  createdAt: number;
  comment: Comment;
}

/**
 * The inbox: replies to one's comments and `u/name` mentions, written by an
 * outbox handler after the comment's commit (at least once; one item per
 * account and comment, so a repeat changes nothing). A reply that also
 * mentions its parent's author is one reply. Nobody is told about their own
 * comment.
 */
export function createInbox(deps: {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  outbox: Outbox;
  accounts: AccountsModule;
  cursors: Cursors;
  /** On a store shared by several processes: how stale a kept unread count may be while notices are not heard. */
  cacheTtlMs: number;
  memory: MemoryBudget;
  comments: (ids: string[], principal: Principal, shownOnly: boolean) => Promise<Comment[]>;
}) {
  const { store, clock, ids, outbox, accounts } = deps;
  // Each account's unread count, which every signed-in page's header shows: exact on a single
  // writer; on a shared store the process that adds or marks items tells the others (topic
  // `inbox.changed`), which drop their copy when it arrives.
  const unread = createSharedReadCache<number>(store, 'inbox.changed', {
    ttlMs: deps.cacheTtlMs,
    maxEntries: 100_000,
    now: () => clock.now(),
    memory: { budget: deps.memory, owner: 'inbox' },
  });
  const countUnread = (accountId: string): number | Promise<number> => {
    const n = unread.get(accountId, async () =>
      Number((await store.q.get<{ n: number }>(q.INBOX_UNREAD, [accountId]))?.n ?? 0),
    );
    return n instanceof Promise ? n.then((count) => count ?? 0) : n;
  };

  async function deliver(event: CommentCreated): Promise<void> {
    const mentioned =
      event.mentions.length === 0
        ? []
        : [...(await accounts.idsOf(event.mentions)).values()].filter((id) => id !== event.authorId);
    const toParent =
      event.parentAuthorId !== undefined
        ? event.parentAuthorId !== null && event.parentAuthorId !== event.authorId
        : Boolean(event.parentId);
    if (!toParent && mentioned.length === 0) return;
    const now = clock.now();
    await store.write(async (tx) => {
      // In this order, in one go with the COMMIT: the reply first, so that a mention of the parent's
      // author is refused by the one-item-per-account-and-comment rule.
      // The parent's author: named by an older event, else the account of the row written from the parent.
      const named = toParent && event.parentAuthorId !== undefined ? event.parentAuthorId : null;
      const fromParent =
        toParent && event.parentAuthorId === undefined
          ? tx.get<{ account_id: string }>(q.INBOX_REPLY, [
              ids.next(),
              event.commentId,
              now,
              event.parentId ?? null,
              event.authorId,
            ])
          : null;
      const writes = [
        named === null ? null : tx.run(q.INBOX_INSERT, [ids.next(), named, 'reply', event.commentId, now]),
        fromParent,
        ...mentioned.map((id) => tx.run(q.INBOX_INSERT, [ids.next(), id, 'mention', event.commentId, now])),
      ];
      const written = Promise.all(writes);
      tx.commitEarly(); // one round trip on PostgreSQL: the COMMIT goes right behind them
      await written;
      const parentAuthor = named ?? (await fromParent)?.account_id ?? null;
      // The unread counts that changed, dropped after the commit here and told to the other processes.
      tx.afterCommit(() => {
        for (const id of parentAuthor ? [parentAuthor, ...mentioned] : mentioned) unread.invalidate(id);
      });
    });
  }

  return {
    start(): void {
      outbox.subscribe('comment.created', 'inbox', (event) => deliver(event.payload));
    },

    async list(input: { limit: number; unread: boolean; cursor?: string | undefined }, principal: Principal) {
      const after = input.cursor ? deps.cursors.decode('inbox', input.cursor, ['id'])[0] : null;
      const params = after ? [principal.accountId, after, input.limit + 1] : [principal.accountId, input.limit + 1];
      const [rows, unreadCount] = await Promise.all([
        store.q.all<q.InboxRow>(q.inbox(input.unread, after !== null), params),
        countUnread(principal.accountId),
      ]);
      const page = rows.slice(0, input.limit);
      const comments = new Map(
        (
          await deps.comments(
            page.map((r) => r.comment_id),
            principal,
            false,
          )
        ).map((c) => [c.id, c]),
      );
      const items: InboxItem[] = page.flatMap((r) => {
        const comment = comments.get(r.comment_id);
        return comment ? [{ id: r.id, type: r.kind, read: r.read_at !== null, createdAt: r.created_at, comment }] : [];
      });
      const last = page[page.length - 1];
      return {
        items,
        unreadCount,
        nextCursor: rows.length > input.limit && last ? deps.cursors.encode('inbox', [last.id]) : null,
      };
    },

    /** How many items the account has not read (the pages' header shows it): kept, synchronous when it is. */
    unreadCount(principal: Principal): number | Promise<number> {
      return countUnread(principal.accountId);
    },

    /** Marks the given items read (all unread ones when no ids are given). Idempotent. */
    async markRead(itemIds: string[] | undefined, principal: Principal): Promise<void> {
      const now = clock.now();
      await store.write(async (tx) => {
        if (itemIds === undefined) await tx.run(q.INBOX_READ_ALL, [now, principal.accountId]);
        else if (itemIds.length > 0) await tx.run(q.inboxRead(itemIds.length), [now, principal.accountId, ...itemIds]);
        tx.afterCommit(() => unread.invalidate(principal.accountId));
      });
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;
