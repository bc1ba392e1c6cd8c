import nodemailer from 'nodemailer';
import type { Logger } from '../../platform/log.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** Stable per event, so that a receiver can drop a repeat of an at-least-once delivery. */
  messageId: string;
}

export interface Mailer {
  /** Resolves once the server accepted the mail; rejects so the outbox retries. */
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** SMTP (`smtp://user:pass@host:port`, `smtps://…` for TLS) through nodemailer. */
export function createSmtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport(url, { from });
  return {
    async send(mail) {
      await transport.sendMail({ to: mail.to, subject: mail.subject, text: mail.text, messageId: mail.messageId });
    },
    close: () => transport.close(),
  };
}

/** Without AGORA_SMTP_URL: mails are written to the log (development). */
export function createLogMailer(log: Logger): Mailer {
  return {
    async send(mail) {
      log.info({ mail }, `mail to ${mail.to}: ${mail.subject}`);
    },
    close: () => {},
  };
}
