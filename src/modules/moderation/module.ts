import { pick } from '../../platform/pick.js';
import { moderationRoutes, type ModerationRoutes } from './routes.js';
import { createModerationService, type ModerationDeps, type ModerationService } from './service.js';

/** What other modules may ask of moderation; the rest is behind the routes. */
export interface ModerationModule {
  assertModerator: ModerationService['assertModerator'];
  assertNotBanned: ModerationService['assertNotBanned'];
  /** The ban rule as a guard of another module's write statement. */
  notBanned: ModerationService['notBanned'];
  bannedAmong: ModerationService['bannedAmong'];
  /** Records a moderator action in the public log, in the caller's transaction. */
  log: ModerationService['log'];
  resolveReportsOn: ModerationService['resolveReportsOn'];
  report: ModerationService['report'];
  /** For the web pages: the reports queue, the modlog, bans. */
  reports: ModerationService['reports'];
  resolveReport: ModerationService['resolveReport'];
  modlog: ModerationService['modlog'];
  bans: ModerationService['bans'];
  ban: ModerationService['ban'];
  unban: ModerationService['unban'];
  routes: ModerationRoutes;
}

export function createModerationModule(deps: ModerationDeps): ModerationModule {
  const service = createModerationService(deps);
  return {
    ...pick(service, [
      'assertModerator',
      'assertNotBanned',
      'notBanned',
      'bannedAmong',
      'log',
      'resolveReportsOn',
      'report',
      'reports',
      'resolveReport',
      'modlog',
      'bans',
      'ban',
      'unban',
    ]),
    routes: (auth) => moderationRoutes(service, auth),
  };
}
