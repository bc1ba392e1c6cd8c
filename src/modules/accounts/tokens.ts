import { hash, randomBytes } from 'node:crypto';

/** Session tokens: 32 random bytes, base64url; only their SHA-256 is stored. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return hash('sha256', token);
}

/** A string that could be one of our tokens (43 base64url chars; the auth hook checked the alphabet). */
export function looksLikeToken(token: string): boolean {
  return token.length === 43;
}
