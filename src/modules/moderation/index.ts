/**
 * Moderation: moderators (through communities), bans, reports and the public
 * modlog. Other modules use `assertModerator`, `assertNotBanned`, `log` and
 * `resolveReportsOn` (in their transaction) and `report`; `notBannedSql` guards
 * a write of theirs in its own SQL.
 */
export { notBannedSql } from './service.js';
export {
  createModerationService as createModerationModule,
  type ModerationService as ModerationModule,
  type ModAction,
} from './service.js';
export { moderationRoutes, ReasonBody, ReportSchema } from './routes.js';
