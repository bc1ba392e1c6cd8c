/** The drops module's outbox events (the compiler checks producers and handlers against them). */
export interface DropCreated {
  dropId: string;
  communityId: string;
}

/** An order was placed: it holds its units, unpaid, until it is paid, cancelled or expires. */
export interface OrderCreated {
  orderId: string;
  dropId: string;
  accountId: string;
  quantity: number;
  amountCents: number;
  currency: string;
}

/** An order moved to another status (`order.<status>`, `lifecycle.ts`). */
export interface OrderChanged {
  orderId: string;
  dropId: string;
  accountId: string;
  quantity: number;
}

declare module '../../platform/outbox/index.js' {
  interface OutboxTopics {
    'drop.created': DropCreated;
    'order.created': OrderCreated;
    'order.paid': OrderChanged;
    'order.expired': OrderChanged;
    'order.cancelled': OrderChanged;
    'order.refunded': OrderChanged;
  }
}
