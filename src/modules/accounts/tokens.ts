import { createHash, randomBytes } from 'node:crypto';

/** Session tokens: 32 random bytes, base64url; only their SHA-256 is stored. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A string that could be one of our tokens (43 base64url chars). */
export function looksLikeToken(token: string): boolean {
  return token.length === 43 && /^[A-Za-z0-9_-]+$/.test(token);
}
