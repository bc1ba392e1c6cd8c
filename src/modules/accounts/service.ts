import { createReadCache, createSharedReadCache } from '../../platform/cache.js';
import type { MemoryBudget } from '../../platform/memory.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Outbox } from '../../platform/outbox/index.js';
import { allIn, keptWhileHeard, type Queryable, type Store, type Tx } from '../../platform/store/index.js';
import type { Passwords } from './passwords.js';
import * as q from './queries.js';
import { hashToken, looksLikeToken, newToken } from './tokens.js';

export interface Account {
  id: string;
  username: string;
  createdAt: number;
  karma: { post: number; comment: number };
}

export interface OwnAccount extends Account {
  email: string | null;
  isAdmin: boolean;
}

export interface Session {
  token: string;
  expiresAt: number;
  account: Account;
}

export interface AccountsDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  outbox: Outbox;
  passwords: Passwords;
  sessionTtlMs: number;
  /** On a store shared by several processes: how stale a cached session or account may be (0: no cache). */
  cacheTtlMs: number;
  memory: MemoryBudget;
  /** Lower-cased usernames reserved for site admins: sign-up refuses them. */
  admins: readonly string[];
}

/** How long a session copy is kept while sign-outs elsewhere are heard as notices. */
const SESSION_KEEP_MS = 10 * 60_000;

export type AccountsService = ReturnType<typeof createAccountsService>;

export function createAccountsService(deps: AccountsDeps) {
  const { store, clock, ids, outbox, passwords } = deps;
  const reserved = new Set(deps.admins);
  // In-memory copies of sessions and accounts: exact when this process is
  // the only writer (SQLite). Every change to these tables goes through this
  // service, which invalidates after commit; on PostgreSQL other processes
  // hear of it as a notice, and while notices are not heard see it within
  // cacheTtlMs.
  const cacheOptions = { exact: () => store.capabilities.exactCopies, ttlMs: deps.cacheTtlMs, now: () => clock.now() };
  // A session row only ever goes away (sign-out), and a sign-out is sent to
  // every process as a notice: while notices are heard, a copy is kept for
  // SESSION_KEEP_MS (signing out elsewhere still ends it at once); while they
  // are not, for cacheTtlMs as above. 0 keeps no copies either way.
  const sessions = createReadCache<string, q.SessionRow>({
    ...cacheOptions,
    ttlMs: keptWhileHeard(store.notices, deps.cacheTtlMs, SESSION_KEEP_MS),
    maxEntries: 200_000,
    memory: { budget: deps.memory, owner: 'sessions' },
  });
  store.notices.subscribe(
    'sessions',
    (message) => {
      // `t:<token hash>`: one session ended; `a:<account id>`: all of an account's.
      const value = message.slice(2);
      if (message.startsWith('t:')) sessions.invalidate(value);
      else sessions.invalidateWhere((_hash, session) => session.account_id === value);
    },
    () => sessions.clear(),
  );
  // Account rows: a change is told to the other processes (topic `accounts.changed`).
  const accountsById = createSharedReadCache<q.AccountRow>(store, 'accounts.changed', {
    ...cacheOptions,
    maxEntries: 100_000,
    memory: { budget: deps.memory, owner: 'accounts' },
  });
  // Sessions are dropped by the notices' gap at a swap; account rows here.
  store.onReplaced(() => accountsById.clear());
  const names = new Map<string, string>();

  async function idsOf(usernames: readonly string[], within: Queryable = store.q): Promise<Map<string, string>> {
    const keys = [...new Set(usernames.map((u) => u.toLowerCase()))];
    const found = await allIn(keys, (slice) =>
      within.all<{ id: string; username_key: string }>(q.idsByKeys(slice.length), slice),
    );
    return new Map(found.map((row) => [row.username_key, row.id]));
  }

  return {
    /** Creates an account; `username_taken` if the name is used in any letter case. */
    async register(input: { username: string; password: string; email?: string | undefined }): Promise<Account> {
      const key = input.username.toLowerCase();
      if (reserved.has(key))
        throw new AppError('username_taken', `the username ${input.username} is reserved`, { field: 'username' });
      // Cheap early answer; the unique index below is what guarantees it.
      if (await store.q.get(q.ACCOUNT_ID_BY_KEY, [key])) throw taken(input.username);
      const hash = await passwords.hash(input.password);
      const id = ids.next();
      const createdAt = clock.now();
      const inserted = await store.write(async (tx) => {
        const row = await tx.get(q.INSERT_ACCOUNT, [id, input.username, key, input.email ?? null, hash, createdAt]);
        if (!row) return false;
        await outbox.record(tx, 'account.created', { accountId: id, username: input.username });
        return true;
      });
      if (!inserted) throw taken(input.username);
      return { id, username: input.username, createdAt, karma: { post: 0, comment: 0 } };
    },

    /**
     * Signs in; the same `invalid_credentials` for an unknown user and a wrong
     * password. Failures in a row back the account off: from the
     * `FREE_FAILURES`+1st on, the next attempt is refused (`rate_limited`,
     * without checking the password) for a time doubling from a second up to
     * `MAX_BACKOFF_MS`; a success resets it. A hash made with a lower cost
     * than new ones get is re-hashed with the password just checked.
     */
    async login(input: { username: string; password: string }): Promise<Session> {
      const row = await store.q.get<q.AccountRow>(q.ACCOUNT_BY_KEY, [input.username.toLowerCase()]);
      const now = clock.now();
      if (row && row.login_after > now) {
        const seconds = Math.ceil((row.login_after - now) / 1000);
        throw new AppError('rate_limited', `too many failed sign-ins for this account: try again in ${seconds} s`, {
          retryAfterSeconds: seconds,
        });
      }
      const ok = row
        ? await passwords.verify(input.password, row.password_hash)
        : await passwords.dummyVerify(input.password);
      if (!row || !ok) {
        if (row)
          await store.write((tx) => tx.run(q.LOGIN_FAILED, [loginAfter(row.failed_logins + 1, clock.now()), row.id]));
        throw new AppError('invalid_credentials', 'unknown username or wrong password');
      }
      const rehashed = passwords.needsRehash(row.password_hash) ? await passwords.hash(input.password) : null;
      const { token, hash } = newToken();
      const expiresAt = now + deps.sessionTtlMs;
      await store.write(async (tx) => {
        await tx.run(q.DELETE_EXPIRED_SESSIONS, [row.id, now]);
        await tx.run(q.INSERT_SESSION, [hash, row.id, now, expiresAt]);
        if (row.failed_logins > 0) await tx.run(q.LOGIN_SUCCEEDED, [row.id]);
        if (rehashed) await tx.run(q.SET_PASSWORD_HASH, [rehashed, row.id, row.password_hash]);
      });
      return { token, expiresAt, account: toAccount(row) };
    },

    /**
     * Makes a site admin account (`agora admin create`); `username_taken` when
     * the name is used (grant an existing account instead).
     */
    async createAdmin(input: { username: string; password: string }): Promise<Account> {
      const hash = await passwords.hash(input.password);
      const id = ids.next();
      const createdAt = clock.now();
      const inserted = await store.write(async (tx) => {
        const row = await tx.get(q.INSERT_ACCOUNT, [
          id,
          input.username,
          input.username.toLowerCase(),
          null,
          hash,
          createdAt,
        ]);
        if (!row) return false;
        await tx.run(q.SET_ADMIN, [1, input.username.toLowerCase()]);
        await outbox.record(tx, 'account.created', { accountId: id, username: input.username });
        return true;
      });
      if (!inserted) throw taken(input.username);
      return { id, username: input.username, createdAt, karma: { post: 0, comment: 0 } };
    },

    /** Grants or revokes site admin rights (`agora admin grant|revoke`); every session of the account sees it at once. */
    async setAdmin(username: string, admin: boolean): Promise<void> {
      const found = await store.write(async (tx) => {
        const row = await tx.get<{ id: string }>(q.SET_ADMIN, [admin ? 1 : 0, username.toLowerCase()]);
        if (row) await store.notices.publish(tx, 'sessions', `a:${row.id}`);
        return row;
      });
      if (!found) throw new AppError('not_found', `no account named ${username}`);
      sessions.invalidateWhere((_hash, session) => session.account_id === found.id);
      accountsById.invalidate(found.id);
    },

    /** Resolves a bearer token; null when unknown, expired or revoked. Synchronous on a cache hit. */
    authenticate(token: string): Principal | null | Promise<Principal | null> {
      if (!looksLikeToken(token)) return null;
      const tokenHash = hashToken(token);
      const toPrincipal = (row: q.SessionRow | undefined): Principal | null =>
        !row || row.expires_at <= clock.now()
          ? null
          : {
              accountId: row.account_id,
              username: row.username,
              isAdmin: row.is_admin === 1,
              createdAt: row.created_at,
              tokenHash,
            };
      const found = sessions.get(tokenHash, () => store.q.get<q.SessionRow>(q.SESSION_BY_HASH, [tokenHash]));
      return found instanceof Promise ? found.then(toPrincipal) : toPrincipal(found);
    },

    /** Ends one session (its token stops working at once). */
    async logout(tokenHash: string): Promise<void> {
      await store.write(async (tx) => {
        await tx.run(q.DELETE_SESSION, [tokenHash]);
        await store.notices.publish(tx, 'sessions', `t:${tokenHash}`);
      });
    },

    /** Ends every session of an account. */
    async logoutEverywhere(accountId: string): Promise<void> {
      await store.write(async (tx) => {
        await tx.run(q.DELETE_ACCOUNT_SESSIONS, [accountId]);
        await store.notices.publish(tx, 'sessions', `a:${accountId}`);
      });
    },

    /** The signed-in account. Synchronous on a cache hit. */
    me(accountId: string): OwnAccount | Promise<OwnAccount> {
      const own = (row: q.AccountRow | undefined): OwnAccount => {
        if (!row) throw new AppError('unauthenticated', 'this account no longer exists');
        return {
          id: row.id,
          username: row.username,
          createdAt: row.created_at,
          karma: { post: row.post_karma, comment: row.comment_karma },
          email: row.email,
          isAdmin: row.is_admin === 1,
        };
      };
      const found = accountsById.get(accountId, () => store.q.get<q.AccountRow>(q.ACCOUNT_BY_ID, [accountId]));
      return found instanceof Promise ? found.then(own) : own(found);
    },

    async profile(username: string): Promise<Account> {
      const row = await store.q.get<q.AccountRow>(q.ACCOUNT_BY_KEY, [username.toLowerCase()]);
      if (!row) throw new AppError('not_found', `no account named ${username}`);
      return toAccount(row);
    },

    /**
     * Usernames by account id, from memory: a username never changes and an
     * account is never deleted, so the copy is exact on any store. One query
     * for the ids not yet known.
     */
    async usernames(accountIds: readonly string[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      const missing: string[] = [];
      for (const id of accountIds) {
        const known = names.get(id);
        if (known !== undefined) out.set(id, known);
        else if (!out.has(id)) missing.push(id);
      }
      const found = await allIn([...new Set(missing)], (slice) =>
        store.q.all<{ id: string; username: string }>(q.usernamesByIds(slice.length), slice),
      );
      for (const row of found) {
        if (names.size >= 200_000) names.delete(names.keys().next().value as string);
        names.set(row.id, row.username);
        out.set(row.id, row.username);
      }
      return out;
    },

    /** Changes an account's karma in the caller's transaction (votes from others). */
    async addKarma(tx: Tx, accountId: string, delta: { post?: number; comment?: number }): Promise<void> {
      if (!delta.post && !delta.comment) return;
      await tx.run(q.ADD_KARMA, [delta.post ?? 0, delta.comment ?? 0, accountId]);
      tx.afterCommit(() => accountsById.invalidate(accountId));
    },

    /** Where to reach an account: its username and e-mail address (null when it gave none, or no such account). */
    async contact(accountId: string): Promise<{ username: string; email: string | null } | null> {
      const row = await store.q.get<q.AccountRow>(q.ACCOUNT_BY_ID, [accountId]);
      return row ? { username: row.username, email: row.email } : null;
    },

    /** The account id of a username, or not_found. */
    async idOf(username: string): Promise<string> {
      const row = await store.q.get<{ id: string }>(q.ACCOUNT_ID_BY_KEY, [username.toLowerCase()]);
      if (!row) throw new AppError('not_found', `no account named ${username}`);
      return row.id;
    },

    /** Account ids by username (any letter case), in one query per 500 names; unknown names are absent. Keys are lower-case. */
    idsOf,

    /**
     * Accounts for imported authors, in the importer's transaction: an
     * existing account of that name, else a placeholder that cannot sign in
     * (no password matches it). Keys of `ids` are lower-case names;
     * `created` counts the placeholders made.
     */
    async ensurePlaceholders(
      tx: Tx,
      usernames: readonly string[],
    ): Promise<{ ids: Map<string, string>; created: number }> {
      const found = await idsOf(usernames, tx);
      let created = 0;
      for (const username of new Set(usernames)) {
        const key = username.toLowerCase();
        if (found.has(key)) continue;
        const id = ids.next();
        await tx.get(q.INSERT_ACCOUNT, [id, username, key, null, q.NO_PASSWORD, clock.now()]);
        found.set(key, id);
        created++;
      }
      return { ids: found, created };
    },
  };
}

/** Sign-in failures in a row that cost nothing; then each one doubles the wait, from a second. */
const FREE_FAILURES = 5;
const MAX_BACKOFF_MS = 15 * 60_000;
function loginAfter(failures: number, now: number): number {
  if (failures <= FREE_FAILURES) return 0;
  return now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures - FREE_FAILURES - 1, 20));
}

function toAccount(row: q.AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    createdAt: row.created_at,
    karma: { post: row.post_karma, comment: row.comment_karma },
  };
}

function taken(username: string): AppError {
  return new AppError('username_taken', `the username ${username} is taken`, { field: 'username' });
}
