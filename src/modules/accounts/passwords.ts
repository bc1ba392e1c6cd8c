import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt password hashes, self-describing: `scrypt$N$r$p$salt$hash` (base64url). */
export interface Passwords {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /** True when a stored hash was made with a lower cost than new hashes get (it is re-hashed at the next sign-in). */
  needsRehash(stored: string): boolean;
  /** Burns the same time as a verify, for unknown usernames. */
  dummyVerify(password: string): Promise<void>;
}

const KEY_LENGTH = 32;
const R = 8;
const P = 1;

export function createPasswords(cost: number): Passwords {
  const derive = (password: string, salt: Buffer, n: number, r: number, p: number) =>
    new Promise<Buffer>((resolve, reject) =>
      scrypt(
        password.normalize('NFC'),
        salt,
        KEY_LENGTH,
        { N: n, r, p, maxmem: 256 * n * r * p + 1024 * 1024 },
        (err, key) => (err ? reject(err) : resolve(key)),
      ),
    );
  const dummySalt = randomBytes(16);

  return {
    async hash(password) {
      const salt = randomBytes(16);
      const key = await derive(password, salt, cost, R, P);
      return ['scrypt', cost, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
    },
    async verify(password, stored) {
      const [scheme, n, r, p, salt, key] = stored.split('$');
      if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
      const expected = Buffer.from(key, 'base64url');
      const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
    needsRehash(stored) {
      const [scheme, n, r, p] = stored.split('$');
      return scheme === 'scrypt' && (Number(n) < cost || Number(r) < R || Number(p) < P);
    },
    async dummyVerify(password) {
      await derive(password, dummySalt, cost, R, P);
    },
  };
}
