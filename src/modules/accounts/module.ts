import { pick } from '../../platform/pick.js';
import { createPasswords } from './passwords.js';
import { accountsRoutes, type AccountsRouteLimits, type AccountsRoutes } from './routes.js';
import { createAccountsService, type AccountsDeps, type AccountsService } from './service.js';

export interface AccountsModuleDeps extends Omit<AccountsDeps, 'passwords'> {
  scryptCost: number;
  limits: AccountsRouteLimits;
}

/** What the rest of Agora may ask of accounts; the rest is behind the routes. */
export interface AccountsModule {
  authenticate: AccountsService['authenticate'];
  usernames: AccountsService['usernames'];
  profile: AccountsService['profile'];
  createAdmin: AccountsService['createAdmin'];
  setAdmin: AccountsService['setAdmin'];
  addKarma: AccountsService['addKarma'];
  idOf: AccountsService['idOf'];
  idsOf: AccountsService['idsOf'];
  ensurePlaceholders: AccountsService['ensurePlaceholders'];
  contact: AccountsService['contact'];
  /** For the web pages' forms: sign up, sign in, sign out. */
  register: AccountsService['register'];
  login: AccountsService['login'];
  logout: AccountsService['logout'];
  routes: AccountsRoutes;
}

export function createAccountsModule(deps: AccountsModuleDeps): AccountsModule {
  const service = createAccountsService({ ...deps, passwords: createPasswords(deps.scryptCost) });
  return {
    ...pick(service, [
      'authenticate',
      'usernames',
      'profile',
      'createAdmin',
      'setAdmin',
      'addKarma',
      'idOf',
      'idsOf',
      'ensurePlaceholders',
      'contact',
      'register',
      'login',
      'logout',
    ]),
    routes: (auth) => accountsRoutes(service, auth, deps.limits),
  };
}
