import { systemClock } from '../../src/platform/clock.js';
import { newToken } from '../../src/modules/accounts/tokens.js';
import { createIdGenerator } from '../../src/platform/ids.js';
import { loadMigrations, migrate, openStore } from '../../src/platform/store/index.js';
import { migrationsDir } from '../../src/paths.js';

/**
 * Accounts with one live session each, inserted through the Store port into
 * the (migrated) database at `url`: for load tests and benchmarks, where
 * hundreds of real sign-ups would only measure scrypt. Their password hash
 * is unusable, so they can only act through the returned tokens (in order).
 */
export async function seedSignedIn(
  url: string,
  usernames: readonly string[],
  emailOf: (username: string) => string | null = () => null,
): Promise<string[]> {
  const store = openStore({ url, sqliteSync: 'normal', pgPoolSize: 2 });
  try {
    await migrate(store, loadMigrations(migrationsDir(), store.dialect), systemClock);
    const ids = createIdGenerator();
    const now = Date.now();
    const tokens: string[] = [];
    await store.write(async (tx) => {
      for (const name of usernames) {
        const id = ids.next();
        await tx.run(
          'INSERT INTO accounts (id, username, username_key, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          [id, name, name.toLowerCase(), emailOf(name), 'unusable', now],
        );
        const { token, hash } = newToken();
        await tx.run('INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)', [
          hash,
          id,
          now,
          now + 86_400_000,
        ]);
        tokens.push(token);
      }
    });
    return tokens;
  } finally {
    await store.close();
  }
}
