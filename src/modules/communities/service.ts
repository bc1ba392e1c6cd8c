import type { AccountsModule } from '../accounts/index.js';
import { createReadCache, createSharedReadCache } from '../../platform/cache.js';
import type { MemoryBudget } from '../../platform/memory.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { Cursors } from '../../platform/cursor.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Outbox } from '../../platform/outbox/index.js';
import type { Queryable, Store, Tx } from '../../platform/store/index.js';
import type { SearchModule } from '../search/index.js';
import * as q from './queries.js';

export interface Community {
  id: string;
  name: string;
  title: string;
  description: string;
  subscriberCount: number;
  createdAt: number;
  moderators: string[];
  subscribed?: boolean;
}

/** What other modules need of a community: its id and name (these never change). */
export interface CommunityRef {
  id: string;
  name: string;
}

export interface CommunitiesDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  outbox: Outbox;
  accounts: AccountsModule;
  search: SearchModule;
  /** On a store shared by several processes: how stale a cached subscription list may be (0: no cache). */
  cacheTtlMs: number;
  cursors: Cursors;
  memory: MemoryBudget;
}

export function createCommunitiesService(deps: CommunitiesDeps) {
  const { store, clock, ids, outbox, accounts, search, cursors } = deps;
  // A community's id and name never change: the copy is exact on any store.
  const refs = createReadCache<string, CommunityRef>({
    exact: true,
    ttlMs: 0,
    maxEntries: 50_000,
    now: () => clock.now(),
  });
  const refsById = createReadCache<string, CommunityRef>({
    exact: true,
    ttlMs: 0,
    maxEntries: 50_000,
    now: () => clock.now(),
  });
  // Subscription lists (the feed's first step): exact on a single writer; on a shared store a
  // change is told to the other processes (topic `subscriptions.changed`).
  const subscriptions = createSharedReadCache<string[]>(store, 'subscriptions.changed', {
    ttlMs: deps.cacheTtlMs,
    maxEntries: 50_000,
    now: () => clock.now(),
    memory: { budget: deps.memory, owner: 'subscriptions' },
  });

  // Each community's moderators, for what pages show (their moderation tools), never for a
  // decision (`canModerate` reads the store): dropped after each change and told to the other
  // processes (topic `moderators.changed`).
  const moderators = createSharedReadCache<string[]>(store, 'moderators.changed', {
    ttlMs: deps.cacheTtlMs,
    maxEntries: 50_000,
    now: () => clock.now(),
    memory: { budget: deps.memory, owner: 'moderators' },
  });
  const moderatorsChanged = (tx: Tx, communityId: string) => tx.afterCommit(() => moderators.invalidate(communityId));

  // Ids and names are the same in any store; subscription lists are read again from the new one.
  store.onReplaced(() => subscriptions.clear());

  async function ref(name: string): Promise<CommunityRef> {
    const found = await refs.get(name.toLowerCase(), async () => {
      const row = await store.q.get<q.CommunityRow>(q.BY_KEY, [name.toLowerCase()]);
      return row && { id: row.id, name: row.name };
    });
    if (!found) throw new AppError('not_found', `no community named ${name}`);
    return found;
  }

  /** Rows -> public communities: one query for all moderators, one for the viewer's subscriptions. */
  async function present(rows: q.CommunityRow[], principal: Principal | null): Promise<Community[]> {
    if (rows.length === 0) return [];
    const communityIds = rows.map((r) => r.id);
    const modRows = await store.q.all<{ community_id: string; account_id: string }>(
      q.moderatorsOf(rows.length),
      communityIds,
    );
    const names = await accounts.usernames(modRows.map((m) => m.account_id));
    const subscribed = principal
      ? new Set(
          (
            await store.q.all<{ community_id: string }>(q.subscribedAmong(rows.length), [
              principal.accountId,
              ...communityIds,
            ])
          ).map((s) => s.community_id),
        )
      : null;
    return rows.map((r) => {
      const c: Community = {
        id: r.id,
        name: r.name,
        title: r.title,
        description: r.description,
        subscriberCount: r.subscriber_count,
        createdAt: r.created_at,
        moderators: modRows.filter((m) => m.community_id === r.id).map((m) => names.get(m.account_id) ?? '[deleted]'),
      };
      if (subscribed) c.subscribed = subscribed.has(r.id);
      return c;
    });
  }

  async function changeSubscription(name: string, accountId: string, on: boolean): Promise<void> {
    const c = await ref(name);
    await store.write(async (tx) => {
      const changed = on
        ? await tx.run(q.SUBSCRIBE, [accountId, c.id, clock.now()])
        : await tx.run(q.UNSUBSCRIBE, [accountId, c.id]);
      if (changed > 0) await tx.run(q.ADD_SUBSCRIBERS, [on ? 1 : -1, c.id]);
      tx.afterCommit(() => subscriptions.invalidate(accountId));
    });
  }

  /** `within`: the caller's transaction, when it has one (a transaction must not wait for a second connection). */
  async function isModerator(communityId: string, accountId: string, within: Queryable = store.q): Promise<boolean> {
    return (await within.get(q.IS_MODERATOR, [communityId, accountId])) !== undefined;
  }

  return {
    ref,

    /** Creates a community; its creator becomes its first moderator and subscriber. */
    async create(
      input: { name: string; title: string; description?: string | undefined },
      principal: Principal,
    ): Promise<Community> {
      const id = ids.next();
      const now = clock.now();
      const description = input.description ?? '';
      const created = await store.write(async (tx) => {
        const row = await tx.get(q.INSERT, [
          id,
          input.name,
          input.name.toLowerCase(),
          input.title,
          description,
          principal.accountId,
          now,
        ]);
        if (!row) return false;
        await tx.run(q.ADD_MODERATOR, [id, principal.accountId, principal.accountId, now]);
        moderatorsChanged(tx, id);
        await tx.run(q.SUBSCRIBE, [principal.accountId, id, now]);
        await tx.run(q.ADD_SUBSCRIBERS, [1, id]);
        tx.afterCommit(() => subscriptions.invalidate(principal.accountId));
        await search.index(tx, 'communities', id, `${input.name} ${input.title}`, description);
        await outbox.record(tx, 'community.created', {
          communityId: id,
          name: input.name,
          creatorId: principal.accountId,
        });
        return true;
      });
      if (!created) throw new AppError('community_exists', `a community named ${input.name} exists`, { field: 'name' });
      return this.get(input.name, principal);
    },

    async get(name: string, principal: Principal | null): Promise<Community> {
      const row = await store.q.get<q.CommunityRow>(q.BY_KEY, [name.toLowerCase()]);
      if (!row) throw new AppError('not_found', `no community named ${name}`);
      return (await present([row], principal))[0] as Community;
    },

    async list(
      input: { sort: 'popular' | 'new'; limit: number; cursor?: string | undefined },
      principal: Principal | null,
    ) {
      const n = input.limit + 1;
      let rows: q.CommunityRow[];
      if (input.sort === 'popular') {
        const after = input.cursor ? cursors.decode('communities:popular', input.cursor, ['int', 'id']) : null;
        rows = after
          ? await store.q.all(q.LIST_POPULAR_AFTER, [after[0], after[0], after[1], n])
          : await store.q.all(q.LIST_POPULAR, [n]);
      } else {
        const after = input.cursor ? cursors.decode('communities:new', input.cursor, ['id']) : null;
        rows = after ? await store.q.all(q.LIST_NEW_AFTER, [after[0], n]) : await store.q.all(q.LIST_NEW, [n]);
      }
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > input.limit && last
          ? input.sort === 'popular'
            ? cursors.encode('communities:popular', [last.subscriber_count, last.id])
            : cursors.encode('communities:new', [last.id])
          : null;
      return { items: await present(page, principal), nextCursor };
    },

    subscribe: (name: string, accountId: string) => changeSubscription(name, accountId, true),
    unsubscribe: (name: string, accountId: string) => changeSubscription(name, accountId, false),

    /** Ids of the communities the account subscribes to (in memory after the first read). */
    async subscribedIds(accountId: string): Promise<string[]> {
      const found = await subscriptions.get(accountId, async () =>
        (await store.q.all<{ community_id: string }>(q.SUBSCRIBED_IDS, [accountId])).map((r) => r.community_id),
      );
      return found ?? [];
    },

    /** Id and name of communities by id (kept in memory: they never change). */
    async refsByIds(communityIds: readonly string[]): Promise<Map<string, CommunityRef>> {
      const out = new Map<string, CommunityRef>();
      for (const id of new Set(communityIds)) {
        const found = await refsById.get(id, async () => {
          const row = await store.q.get<q.CommunityRow>(q.BY_ID, [id]);
          return row && { id: row.id, name: row.name };
        });
        if (found) out.set(id, found);
      }
      return out;
    },

    /** Public communities by id, for search results. */
    async byIds(communityIds: string[], principal: Principal | null): Promise<Community[]> {
      if (communityIds.length === 0) return [];
      const rows = await store.q.all<q.CommunityRow>(q.byIds(communityIds.length), communityIds);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return present(
        communityIds.map((id) => byId.get(id)).filter((r): r is q.CommunityRow => r !== undefined),
        principal,
      );
    },

    isModerator,

    /** Moderators of the community and site admins may moderate it. */
    async canModerate(communityId: string, principal: Principal, within?: Queryable): Promise<boolean> {
      return principal.isAdmin || isModerator(communityId, principal.accountId, within);
    },

    /** Adds a moderator in the caller's transaction; false if already one. */
    async addModerator(tx: Tx, communityId: string, accountId: string, addedBy: string): Promise<boolean> {
      moderatorsChanged(tx, communityId);
      return (await tx.run(q.ADD_MODERATOR, [communityId, accountId, addedBy, clock.now()])) > 0;
    },

    /**
     * Whether pages show the principal the community's moderation tools: site admins and the
     * community's moderators, from a kept list (synchronous when kept). Never for a decision:
     * that is `canModerate`, which reads the store.
     */
    showsModeration(communityId: string, principal: Principal): boolean | Promise<boolean> {
      if (principal.isAdmin) return true;
      const ids = moderators.get(communityId, async () =>
        (await store.q.all<{ account_id: string }>(q.MODERATOR_IDS, [communityId])).map((r) => r.account_id),
      );
      return ids instanceof Promise
        ? ids.then((found) => found?.includes(principal.accountId) === true)
        : ids.includes(principal.accountId);
    },

    /**
     * Removes a moderator in the caller's transaction; false if not one.
     * Seniority: a moderator may step down, and remove only moderators added
     * after them; the founder can be removed by no moderator. Site admins may
     * remove anyone.
     */
    async removeModerator(tx: Tx, communityId: string, accountId: string, by: Principal): Promise<boolean> {
      if (!by.isAdmin && by.accountId !== accountId) {
        const rows = await tx.all<{ account_id: string; created_at: number; founder: number }>(q.SENIORITY, [
          communityId,
          by.accountId,
          accountId,
        ]);
        const remover = rows.find((r) => r.account_id === by.accountId);
        const target = rows.find((r) => r.account_id === accountId);
        if (!target) return false;
        const senior = remover && !target.founder && (remover.founder || remover.created_at < target.created_at);
        if (!senior)
          throw new AppError(
            'forbidden',
            'moderators may remove only moderators added after them (and never the founder)',
          );
      }
      moderatorsChanged(tx, communityId);
      return (await tx.run(q.REMOVE_MODERATOR, [communityId, accountId])) > 0;
    },
  };
}

export type CommunitiesService = ReturnType<typeof createCommunitiesService>;
