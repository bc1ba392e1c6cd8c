/**
 * Notifications: e-mails sent by outbox handlers (order confirmation, payment
 * receipt) over SMTP, or to the log when no SMTP server is configured.
 */
export { createNotificationsModule, type NotificationsModule } from './module.js';
export { oneLine, type OrderSummary } from './service.js';
export { createLogMailer, createSmtpMailer, type Mail, type Mailer } from './mailer.js';
