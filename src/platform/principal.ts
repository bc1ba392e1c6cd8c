/** Who acts: the account a request (or a command) acts for, as authentication found it. */
export interface Principal {
  accountId: string;
  username: string;
  isAdmin: boolean;
  /** When the account was made (epoch ms): new accounts get tighter limits. */
  createdAt: number;
  /** Hash of the bearer token used (to end this session). */
  tokenHash: string;
}

/**
 * Turns a bearer token into a principal; null when unknown, expired or
 * revoked. May answer synchronously when it knows without asking the store
 * (the auth hook runs on every request).
 */
export type Authenticate = (token: string) => Principal | null | Promise<Principal | null>;
