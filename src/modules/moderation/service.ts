import type { AccountsModule } from '../accounts/index.js';
import type { CommunitiesModule } from '../communities/index.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { Cursors } from '../../platform/cursor.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Guard, Queryable, Store, Tx } from '../../platform/store/index.js';
import { allIn, broken, rows, StoreError } from '../../platform/store/index.js';

export type ModAction =
  | 'add_moderator'
  | 'remove_moderator'
  | 'ban'
  | 'unban'
  | 'remove_post'
  | 'restore_post'
  | 'lock_post'
  | 'unlock_post'
  | 'remove_comment'
  | 'restore_comment'
  | 'resolve_report';

export type TargetType = 'post' | 'comment' | 'account' | 'report';

export interface Ban {
  username: string;
  reason: string;
  createdAt: number;
  expiresAt: number | null;
}

export interface ModlogEntry {
  id: string;
  action: ModAction;
  moderator: string;
  targetType: TargetType;
  targetId: string;
  reason: string | null;
  createdAt: number;
}

export interface Report {
  id: string;
  targetType: 'post' | 'comment';
  targetId: string;
  reason: string;
  reporter: string;
  createdAt: number;
}

export interface ModerationDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  accounts: AccountsModule;
  communities: CommunitiesModule;
  cursors: Cursors;
}

const LIST_REPORTS = 'reports';
const LIST_MODLOG = 'modlog';

/** A ban in force at the time given (the `?`): the one statement of the rule "a ban lasts until it expires". */
const IN_FORCE = '(expires_at IS NULL OR expires_at > ?)';
const NOT_BANNED = `NOT EXISTS (SELECT 1 FROM bans WHERE community_id = ? AND account_id = ? AND ${IN_FORCE})`;
const banned = () => new AppError('banned', 'you are banned from this community');

export function createModerationService(deps: ModerationDeps) {
  const { store, clock, ids, accounts, communities, cursors } = deps;

  async function moderated(name: string, principal: Principal) {
    const community = await communities.ref(name);
    if (!(await communities.canModerate(community.id, principal))) {
      throw new AppError('forbidden', `only moderators of ${community.name} may do this`);
    }
    return community;
  }

  async function log(
    tx: Tx,
    entry: {
      communityId: string;
      moderatorId: string;
      action: ModAction;
      targetType: TargetType;
      targetId: string;
      reason?: string | null;
    },
  ) {
    await tx.run(
      'INSERT INTO modlog (id, community_id, moderator_id, action, target_type, target_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        ids.next(),
        entry.communityId,
        entry.moderatorId,
        entry.action,
        entry.targetType,
        entry.targetId,
        entry.reason ?? null,
        clock.now(),
      ],
    );
  }

  /** The rule "no one acts in a community that banned them", as a guard for a write's own statement. */
  function notBanned(communityId: string, accountId: string): Guard {
    return { sql: NOT_BANNED, params: [communityId, accountId, clock.now()], refusal: banned };
  }

  /** Throws banned if the account is banned (and the ban has not expired) in the community; `within` a transaction if given. */
  async function assertNotBanned(communityId: string, accountId: string, within: Queryable = store.q): Promise<void> {
    const refused = await broken(within, [notBanned(communityId, accountId)]);
    if (refused) throw refused.refusal();
  }

  /** Which of these accounts have a ban in force in the community (one query per 500), `within` a transaction if given. */
  async function bannedAmong(
    communityId: string,
    accountIds: readonly string[],
    within: Queryable = store.q,
  ): Promise<Set<string>> {
    const now = clock.now();
    const found = await allIn([...accountIds], (slice) =>
      within.all<{ account_id: string }>(
        `SELECT account_id FROM bans WHERE community_id = ? AND account_id IN (${rows(slice.length, '?')})
         AND ${IN_FORCE}`,
        [communityId, ...slice, now],
      ),
    );
    return new Set(found.map((r) => r.account_id));
  }

  return {
    /** Throws forbidden unless the principal may moderate the community; `within`: the caller's transaction, when it has one. */
    async assertModerator(communityId: string, principal: Principal, within?: Queryable): Promise<void> {
      if (!(await communities.canModerate(communityId, principal, within)))
        throw new AppError('forbidden', 'only moderators of this community may do this');
    },

    assertNotBanned,
    bannedAmong,
    notBanned,

    /** Records a moderator action in the public log, in the caller's transaction. */
    log,

    async addModerator(name: string, username: string, principal: Principal): Promise<string[]> {
      const community = await moderated(name, principal);
      const accountId = await accounts.idOf(username);
      await store.write(async (tx) => {
        if (await communities.addModerator(tx, community.id, accountId, principal.accountId)) {
          await log(tx, {
            communityId: community.id,
            moderatorId: principal.accountId,
            action: 'add_moderator',
            targetType: 'account',
            targetId: accountId,
          });
        }
      });
      return (await communities.get(name, null)).moderators;
    },

    async removeModerator(name: string, username: string, principal: Principal): Promise<void> {
      const community = await moderated(name, principal);
      const accountId = await accounts.idOf(username);
      await store.write(async (tx) => {
        if (await communities.removeModerator(tx, community.id, accountId, principal)) {
          await log(tx, {
            communityId: community.id,
            moderatorId: principal.accountId,
            action: 'remove_moderator',
            targetType: 'account',
            targetId: accountId,
          });
        }
      });
    },

    async ban(
      name: string,
      input: { username: string; reason: string; expiresAt?: number | undefined },
      principal: Principal,
    ): Promise<Ban> {
      const community = await moderated(name, principal);
      const accountId = await accounts.idOf(input.username);
      const now = clock.now();
      if (input.expiresAt !== undefined && input.expiresAt <= now) {
        throw new AppError('invalid_request', 'expiresAt must be in the future', { field: 'expiresAt' });
      }
      const expiresAt = input.expiresAt ?? null;
      await store.write(async (tx) => {
        await tx.run(
          `INSERT INTO bans (community_id, account_id, reason, banned_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (community_id, account_id) DO UPDATE SET reason = excluded.reason, banned_by = excluded.banned_by,
             created_at = excluded.created_at, expires_at = excluded.expires_at`,
          [community.id, accountId, input.reason, principal.accountId, now, expiresAt],
        );
        await log(tx, {
          communityId: community.id,
          moderatorId: principal.accountId,
          action: 'ban',
          targetType: 'account',
          targetId: accountId,
          reason: input.reason,
        });
      });
      return { username: input.username, reason: input.reason, createdAt: now, expiresAt };
    },

    async unban(name: string, username: string, principal: Principal): Promise<void> {
      const community = await moderated(name, principal);
      const accountId = await accounts.idOf(username);
      await store.write(async (tx) => {
        if (
          (await tx.run('DELETE FROM bans WHERE community_id = ? AND account_id = ?', [community.id, accountId])) > 0
        ) {
          await log(tx, {
            communityId: community.id,
            moderatorId: principal.accountId,
            action: 'unban',
            targetType: 'account',
            targetId: accountId,
          });
        }
      });
    },

    async bans(name: string, principal: Principal): Promise<Ban[]> {
      const community = await moderated(name, principal);
      const rows = await store.q.all<{
        account_id: string;
        reason: string;
        created_at: number;
        expires_at: number | null;
      }>(
        `SELECT account_id, reason, created_at, expires_at FROM bans WHERE community_id = ? AND ${IN_FORCE} ORDER BY created_at DESC`,
        [community.id, clock.now()],
      );
      const who = await accounts.usernames(rows.map((r) => r.account_id));
      return rows.map((r) => ({
        username: who.get(r.account_id) ?? '[deleted]',
        reason: r.reason,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
      }));
    },

    /** Files a report (once per account and target); the caller checked that the target exists. */
    /** Files a report; an account banned from the community cannot. */
    async report(
      input: { communityId: string; targetType: 'post' | 'comment'; targetId: string; reason: string },
      principal: Principal,
    ): Promise<Report> {
      await assertNotBanned(input.communityId, principal.accountId);
      const id = ids.next();
      const now = clock.now();
      try {
        await store.write((tx) =>
          tx.run(
            'INSERT INTO reports (id, community_id, target_type, target_id, reporter_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
            [id, input.communityId, input.targetType, input.targetId, principal.accountId, input.reason, now],
          ),
        );
      } catch (error) {
        if (error instanceof StoreError && error.kind === 'unique')
          throw new AppError('already_reported', 'you have reported this already');
        throw error;
      }
      return {
        id,
        targetType: input.targetType,
        targetId: input.targetId,
        reason: input.reason,
        reporter: principal.username,
        createdAt: now,
      };
    },

    /** Open reports of a community, newest first (moderators only). */
    async reports(name: string, input: { limit: number; cursor?: string | undefined }, principal: Principal) {
      const community = await moderated(name, principal);
      const after = input.cursor ? cursors.decode(LIST_REPORTS, input.cursor, ['id'])[0] : null;
      const rows = await store.q.all<{
        id: string;
        target_type: 'post' | 'comment';
        target_id: string;
        reporter_id: string;
        reason: string;
        created_at: number;
      }>(
        `SELECT id, target_type, target_id, reporter_id, reason, created_at FROM reports
         WHERE community_id = ? AND resolved_at IS NULL${after ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
        after ? [community.id, after, input.limit + 1] : [community.id, input.limit + 1],
      );
      const page = rows.slice(0, input.limit);
      const who = await accounts.usernames(page.map((r) => r.reporter_id));
      return {
        items: page.map((r) => ({
          id: r.id,
          targetType: r.target_type,
          targetId: r.target_id,
          reason: r.reason,
          reporter: who.get(r.reporter_id) ?? '[deleted]',
          createdAt: r.created_at,
        })),
        nextCursor:
          rows.length > input.limit && page.length > 0
            ? cursors.encode(LIST_REPORTS, [page[page.length - 1]!.id])
            : null,
      };
    },

    /** Marks one report handled (moderators only). */
    async resolveReport(reportId: string, principal: Principal): Promise<void> {
      const report = await store.q.get<{ community_id: string; resolved_at: number | null }>(
        'SELECT community_id, resolved_at FROM reports WHERE id = ?',
        [reportId],
      );
      if (!report) throw new AppError('not_found', 'no such report');
      if (!(await communities.canModerate(report.community_id, principal)))
        throw new AppError('forbidden', 'only moderators of this community may do this');
      if (report.resolved_at !== null) return;
      await store.write(async (tx) => {
        await tx.run('UPDATE reports SET resolved_at = ?, resolved_by = ? WHERE id = ? AND resolved_at IS NULL', [
          clock.now(),
          principal.accountId,
          reportId,
        ]);
        await log(tx, {
          communityId: report.community_id,
          moderatorId: principal.accountId,
          action: 'resolve_report',
          targetType: 'report',
          targetId: reportId,
        });
      });
    },

    /** Resolves every open report on a target, in the caller's transaction (the target was removed). */
    async resolveReportsOn(
      tx: Tx,
      targetType: 'post' | 'comment',
      targetId: string,
      moderatorId: string,
    ): Promise<void> {
      await tx.run(
        'UPDATE reports SET resolved_at = ?, resolved_by = ? WHERE target_type = ? AND target_id = ? AND resolved_at IS NULL',
        [clock.now(), moderatorId, targetType, targetId],
      );
    },

    /** The public moderation log of a community, newest first. */
    async modlog(name: string, input: { limit: number; cursor?: string | undefined }) {
      const community = await communities.ref(name);
      const after = input.cursor ? cursors.decode(LIST_MODLOG, input.cursor, ['id'])[0] : null;
      const rows = await store.q.all<{
        id: string;
        moderator_id: string;
        action: ModAction;
        target_type: TargetType;
        target_id: string;
        reason: string | null;
        created_at: number;
      }>(
        `SELECT id, moderator_id, action, target_type, target_id, reason, created_at FROM modlog
         WHERE community_id = ?${after ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
        after ? [community.id, after, input.limit + 1] : [community.id, input.limit + 1],
      );
      const page = rows.slice(0, input.limit);
      const who = await accounts.usernames(page.map((r) => r.moderator_id));
      const items: ModlogEntry[] = page.map((r) => ({
        id: r.id,
        action: r.action,
        moderator: who.get(r.moderator_id) ?? '[deleted]',
        targetType: r.target_type,
        targetId: r.target_id,
        reason: r.reason,
        createdAt: r.created_at,
      }));
      return {
        items,
        nextCursor:
          rows.length > input.limit && page.length > 0
            ? cursors.encode(LIST_MODLOG, [page[page.length - 1]!.id])
            : null,
      };
    },
  };
}

export type ModerationService = ReturnType<typeof createModerationService>;
