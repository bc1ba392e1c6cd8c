import type { FastifyPluginAsync } from 'fastify';
import type { AuthHooks } from '../../platform/http/index.js';
import { createPasswords } from './passwords.js';
import { accountsRoutes, type AccountsRouteLimits } from './routes.js';
import { createAccountsService, type AccountsDeps, type AccountsService } from './service.js';

export interface AccountsModuleDeps extends Omit<AccountsDeps, 'passwords'> {
  scryptCost: number;
  limits: AccountsRouteLimits;
}

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
  routes(auth: AuthHooks): FastifyPluginAsync;
}

export function createAccountsModule(deps: AccountsModuleDeps): AccountsModule {
  const service = createAccountsService({ ...deps, passwords: createPasswords(deps.scryptCost) });
  return {
    authenticate: service.authenticate,
    usernames: service.usernames,
    profile: service.profile,
    createAdmin: service.createAdmin,
    setAdmin: service.setAdmin,
    addKarma: service.addKarma,
    idOf: service.idOf,
    idsOf: service.idsOf,
    ensurePlaceholders: service.ensurePlaceholders,
    contact: service.contact,
    routes: (auth) => accountsRoutes(service, auth, deps.limits),
  };
}
