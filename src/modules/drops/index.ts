/**
 * Drops: a fixed stock sold from a set time and never oversold, orders with
 * their lifecycle (`lifecycle.ts`), idempotent order creation, expiry of
 * unpaid orders, and the payment provider seam (`payments.ts`).
 */
export { createDropsModule, type DropsModule } from './module.js';
export { createBuiltInProvider, signPayload, type PaymentProvider } from './payments.js';
export type { DropCreated, OrderChanged, OrderCreated } from './events.js';
export type { Drop, Order } from './presenter.js';
