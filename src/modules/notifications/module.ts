import { createNotificationsService, type NotificationsDeps } from './service.js';

/** Notifications has no routes and no callers: it answers outbox events. */
export interface NotificationsModule {
  /** Subscribes the mail handlers to the outbox. */
  start(): void;
}

export function createNotificationsModule(deps: NotificationsDeps): NotificationsModule {
  const service = createNotificationsService(deps);
  return { start: service.start };
}
