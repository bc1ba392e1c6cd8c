import { randomBytes } from 'node:crypto';
import type { Store } from './types.js';

/**
 * A secret of the site (32 random bytes), made once and kept in the store so
 * that every process on it, and every restart, shares it. The first process
 * to ask makes it; a concurrent maker's insert changes nothing.
 */
export async function siteSecret(store: Store, name: string): Promise<Buffer> {
  const read = () => store.q.get<{ value: string }>('SELECT value FROM site_secrets WHERE name = ?', [name]);
  let row = await read();
  if (!row) {
    const value = randomBytes(32).toString('base64url');
    await store.write((tx) =>
      tx.run('INSERT INTO site_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, value]),
    );
    row = await read();
  }
  if (!row) throw new Error(`the site secret ${name} could not be stored`);
  return Buffer.from(row.value, 'base64url');
}
