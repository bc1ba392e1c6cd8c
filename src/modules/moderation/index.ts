/**
 * Moderation: moderators (through communities), bans, reports and the public
 * modlog. Other modules use what `ModerationModule` offers (`module.ts`),
 * among it the ban rule as a guard of their own write (`notBanned`).
 */
export { createModerationModule, type ModerationModule } from './module.js';
export type { Ban, ModAction, ModlogEntry, Report } from './service.js';
export { ReasonBody, ReportSchema } from './routes.js';
