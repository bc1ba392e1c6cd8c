import type { Logger } from '../../platform/log.js';
import type { Outbox, OutboxEvent } from '../../platform/outbox/index.js';
import type { Mailer } from './mailer.js';

/** What a mail about an order needs; the drops module provides it. */
export interface OrderSummary {
  order: { id: string; quantity: number; amountCents: number; currency: string; expiresAt: number; paymentUrl: string };
  dropName: string;
  accountId: string;
}

export interface NotificationsDeps {
  outbox: Outbox;
  log: Logger;
  mailer: Mailer;
  /** The host name in Message-IDs. */
  domain: string;
  contact(accountId: string): Promise<{ username: string; email: string | null } | null>;
  orderSummary(orderId: string): Promise<OrderSummary | null>;
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

/**
 * E-mails about orders, sent by outbox handlers after the order's commit:
 * `order.created` → an order confirmation with the payment link,
 * `order.paid` → a payment receipt. Delivery is at least once: a failing mail
 * server makes the outbox retry with backoff and never touches the order;
 * each mail's Message-ID is derived from its event id, so a repeat is
 * recognisable. Accounts without an e-mail address get no mail.
 */
/** A name as one line of text: control characters and line separators become spaces, so no name can forge a line or a header. */
export function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
}

export function createNotificationsService(deps: NotificationsDeps) {
  const { outbox, log, mailer } = deps;

  async function mailAboutOrder(
    event: OutboxEvent<'order.created' | 'order.paid'>,
    compose: (s: OrderSummary, username: string) => { subject: string; text: string },
  ) {
    const { orderId } = event.payload;
    const summary = await deps.orderSummary(orderId);
    if (!summary) return;
    const who = await deps.contact(summary.accountId);
    if (!who?.email) {
      log.debug({ orderId, topic: event.topic }, 'no e-mail address on the account: no mail');
      return;
    }
    const { subject, text } = compose(summary, who.username);
    await mailer.send({ to: who.email, subject, text, messageId: `<${event.id}.${event.topic}@${deps.domain}>` });
  }

  return {
    /** Subscribes the mail handlers to the outbox. */
    start(): void {
      outbox.subscribe('order.created', 'mail-order-confirmation', (event) =>
        mailAboutOrder(event, (s, username) => ({
          subject: `Your order for ${oneLine(s.dropName)}`,
          text: [
            `Hello ${username},`,
            '',
            `we are holding ${s.order.quantity} × ${oneLine(s.dropName)} for you (order ${s.order.id}).`,
            `Total: ${money(s.order.amountCents, s.order.currency)}.`,
            `Pay by ${new Date(s.order.expiresAt).toISOString()} at ${s.order.paymentUrl}`,
            'After that the order expires and the units go back on sale.',
          ].join('\n'),
        })),
      );
      outbox.subscribe('order.paid', 'mail-payment-receipt', (event) =>
        mailAboutOrder(event, (s, username) => ({
          subject: `Receipt: ${oneLine(s.dropName)}`,
          text: [
            `Hello ${username},`,
            '',
            `we received ${money(s.order.amountCents, s.order.currency)} for order ${s.order.id}: ${s.order.quantity} × ${oneLine(s.dropName)}.`,
            'Thank you.',
          ].join('\n'),
        })),
      );
    },
  };
}
