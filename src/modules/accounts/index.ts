/**
 * Accounts: sign-up, sign-in, bearer sessions, profiles and karma totals.
 * Other modules use what `AccountsModule` offers (`module.ts`); the tables are
 * this module's own.
 */
export { createAccountsModule, type AccountsModule, type AccountsModuleDeps } from './module.js';
export type { Account, OwnAccount, Session } from './service.js';
export { Username, UsernameRef, AccountSchema } from './routes.js';
export type { AccountCreated } from './events.js';
