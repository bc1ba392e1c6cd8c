import { createHash } from 'node:crypto';
import type { CommunitiesModule } from '../communities/index.js';
import { createFreshReads } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, type ErrorCode } from '../../platform/errors.js';
import type { Principal } from '../../platform/http/index.js';
import { decodeCursor, encodeCursor } from '../../platform/http/index.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Outbox } from '../../platform/outbox/index.js';
import { createWriteCombiner, type Store, type Tx } from '../../platform/store/index.js';
import { HOLDS_STOCK, isOrderStatus, transition, type OrderEvent } from './lifecycle.js';
import type { DropMetrics } from './metrics.js';
import type { PaymentProvider } from './payments.js';
import { dropJson, dropJsonPrefix, presentDrop, presentOrder, type Drop, type Order } from './presenter.js';
import * as q from './queries.js';

export interface DropsDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  outbox: Outbox;
  communities: CommunitiesModule;
  payments: PaymentProvider;
  metrics: DropMetrics;
  /** How long a pending order holds its units before it expires. */
  orderTtlMs: number;
  /** Idempotency keys are kept at least this long. */
  keyTtlMs: number;
}

export interface NewDrop {
  communityName: string;
  name: string;
  description?: string | undefined;
  stock: number;
  priceCents: number;
  currency: string;
  startsAt: number;
  endsAt?: number | undefined;
  perCustomerLimit: number;
}

export interface PaymentEvent {
  id: string;
  type: 'payment.succeeded' | 'payment.failed';
  data: { orderId: string; amountCents: number };
}

/**
 * What a payment event did: `paid` (a pending order became paid), `refund_due`
 * (money came for an order that can no longer take it: expired, cancelled or
 * already paid — it stays as it is), `amount_mismatch`, `failed` (the
 * provider reports a failed attempt; the order waits for another or expires),
 * `unknown_order`, or `duplicate` (this event id was handled before).
 */
export type PaymentOutcome = 'paid' | 'refund_due' | 'amount_mismatch' | 'failed' | 'unknown_order' | 'duplicate';

/** An order request's outcome, as stored for its idempotency key and replayed. */
type Outcome = { ok: true; order: Order } | { ok: false; code: ErrorCode; message: string };

export function createDropsService(deps: DropsDeps) {
  const { store, clock, ids, outbox, communities, payments, metrics } = deps;

  // Drop rows in memory, served by GET /drops/:id when this process is the
  // only writer (SQLite): every change to `sold` goes through this service
  // and is applied to the copy right after its commit, so `remaining` is
  // exact. On PostgreSQL other processes sell too: every read asks the store,
  // and reads of one drop asked together share a query that starts after
  // they were all asked (createFreshReads), so each is still exact.
  const copies = new Map<string, q.DropRow>();
  const readDrop = createFreshReads((id: string) => store.q.get<q.DropRow>(q.DROP_BY_ID, [id]));
  const exact = store.singleWriter;
  // Orders of one drop all lock its row: on PostgreSQL those that arrive
  // together share one transaction (see createWriteCombiner).
  const writeOnDrop = createWriteCombiner(store);
  const soldAfterCommit = (tx: Tx, dropId: string, sold: number) =>
    tx.afterCommit(() => {
      const copy = copies.get(dropId);
      if (copy) copy.sold = sold;
    });

  async function dropRow(id: string): Promise<q.DropRow> {
    const copy = exact ? copies.get(id) : undefined;
    if (copy) return copy;
    const row = await readDrop(id);
    if (!row) throw new AppError('not_found', 'no such drop');
    if (exact && !copies.has(id)) copies.set(id, row);
    return copies.get(id) ?? row;
  }

  async function communityName(row: q.DropRow): Promise<string> {
    const refs = await communities.refsByIds([row.community_id]);
    return refs.get(row.community_id)?.name ?? '';
  }

  async function present(row: q.DropRow): Promise<Drop> {
    return presentDrop(row, await communityName(row), clock.now());
  }

  // The fixed part of each drop's JSON answer (dropJsonPrefix), by drop id.
  const prefixes = new Map<string, string>();
  async function statusTextFromStore(id: string): Promise<string> {
    const row = await dropRow(id);
    let prefix = prefixes.get(id);
    if (prefix === undefined) {
      prefix = dropJsonPrefix(row, await communityName(row));
      prefixes.set(id, prefix);
    }
    return dropJson(prefix, row, clock.now());
  }

  const toOrder = (row: q.OrderRow) =>
    presentOrder(row, payments.checkoutUrl({ id: row.id, amountCents: row.amount_cents, currency: row.currency }), clock.now());

  async function ownOrder(id: string, principal: Principal): Promise<q.OrderRow> {
    const row = await store.q.get<q.OrderRow>(q.ORDER_BY_ID, [id]);
    if (!row) throw new AppError('not_found', 'no such order');
    if (row.account_id !== principal.accountId) throw new AppError('forbidden', 'only the buyer may see or change an order');
    return row;
  }

  /**
   * Applies a lifecycle event to an order in the caller's transaction and
   * returns stock when the order stops holding it. The order as it now is,
   * or null when the event is not allowed from its status (or lost a race).
   */
  async function applyEvent(tx: Tx, row: q.OrderRow, event: OrderEvent): Promise<q.OrderRow | null> {
    const from = isOrderStatus(row.status) ? row.status : null;
    const to = from && transition(from, event);
    if (!from || !to) return null;
    const now = clock.now();
    if ((await tx.run(q.SET_STATUS, [to, now, row.id, from])) === 0) return null;
    if (HOLDS_STOCK[from] && !HOLDS_STOCK[to]) {
      const released = await tx.get<{ sold: number }>(q.RELEASE, [row.quantity, row.drop_id]);
      if (released) soldAfterCommit(tx, row.drop_id, released.sold);
      tx.afterCommit(() => metrics.unitsReleased.inc({ reason: to }, row.quantity));
    }
    await outbox.record(tx, `order.${to}`, { orderId: row.id, dropId: row.drop_id, accountId: row.account_id, quantity: row.quantity });
    return { ...row, status: to, updated_at: now };
  }

  async function decidePayment(tx: Tx, event: PaymentEvent, now: number): Promise<PaymentOutcome> {
    const order = await tx.get<q.OrderRow>(q.LOCK_ORDER[store.dialect], [event.data.orderId]);
    if (!order) return 'unknown_order';
    if (event.type === 'payment.failed') return 'failed';
    if (event.data.amountCents !== order.amount_cents) return 'amount_mismatch';
    if (order.status === 'pending' && order.expires_at <= now) {
      // Past its time but not yet swept: it expires now, and the payment is refunded.
      await applyEvent(tx, order, 'expire');
      return 'refund_due';
    }
    return (await applyEvent(tx, order, 'pay')) ? 'paid' : 'refund_due';
  }

  /** The buyer's units over the drop's per-customer limit, as a refusal; null within it. */
  async function overLimit(tx: Tx, drop: q.DropRow, quantity: number, principal: Principal): Promise<Outcome | null> {
    const held = Number((await tx.get<{ held: number }>(q.HELD_BY_BUYER, [drop.id, principal.accountId]))?.held ?? 0);
    if (held + quantity <= drop.per_customer_limit) return null;
    return { ok: false, code: 'limit_exceeded', message: `at most ${drop.per_customer_limit} per customer (you hold ${held})` };
  }

  /** Why a reservation found nothing to change: no drop, not open, over the limit, or not enough left. */
  async function refusal(tx: Tx, dropId: string, quantity: number, principal: Principal, now: number): Promise<Outcome> {
    const drop = await tx.get<q.DropRow>(q.DROP_BY_ID, [dropId]);
    if (!drop) throw new AppError('not_found', 'no such drop');
    if (now < drop.starts_at) return { ok: false, code: 'not_started', message: 'this drop has not started yet' };
    if (drop.ends_at !== null && now >= drop.ends_at) return { ok: false, code: 'ended', message: 'this drop has ended' };
    return (await overLimit(tx, drop, quantity, principal)) ?? { ok: false, code: 'sold_out', message: `not enough left for ${quantity}` };
  }

  /**
   * Decides one order request inside its transaction: a business refusal is
   * an outcome (stored), not a rollback. The reservation comes first: it
   * takes the drop's row lock, under which the per-customer limit is checked
   * (and the units handed back when it is exceeded).
   */
  async function decide(tx: Tx, dropId: string, quantity: number, principal: Principal): Promise<Outcome> {
    const now = clock.now();
    const drop = await tx.get<q.DropRow>(q.RESERVE, [quantity, dropId, now, now, quantity]);
    if (!drop) return refusal(tx, dropId, quantity, principal, now);
    const over = await overLimit(tx, drop, quantity, principal);
    if (over) {
      await tx.run(q.RELEASE, [quantity, dropId]);
      return over;
    }
    soldAfterCommit(tx, dropId, drop.sold);
    tx.afterCommit(() => {
      metrics.unitsReserved.inc(quantity);
      if (drop.sold >= drop.stock) metrics.sellouts.inc();
    });
    const order: q.OrderRow = {
      id: ids.next(),
      drop_id: dropId,
      account_id: principal.accountId,
      quantity,
      amount_cents: drop.price_cents * quantity,
      currency: drop.currency,
      status: 'pending',
      created_at: now,
      expires_at: now + deps.orderTtlMs,
      updated_at: now,
    };
    await tx.run(q.INSERT_ORDER, [order.id, dropId, order.account_id, quantity, order.amount_cents, order.currency, now, order.expires_at, now]);
    await outbox.record(tx, 'order.created', { orderId: order.id, dropId, accountId: order.account_id, quantity, amountCents: order.amount_cents, currency: order.currency });
    return { ok: true, order: toOrder(order) };
  }

  return {
    /** Site admins and the community's moderators may create a drop. */
    async create(input: NewDrop, principal: Principal): Promise<Drop> {
      const community = await communities.ref(input.communityName);
      if (!(await communities.canModerate(community.id, principal))) {
        throw new AppError('forbidden', `only moderators of ${community.name} and site admins may create its drops`);
      }
      if (input.endsAt !== undefined && input.endsAt <= input.startsAt) {
        throw new AppError('invalid_request', 'endsAt must be after startsAt', { field: 'endsAt' });
      }
      const id = ids.next();
      const now = clock.now();
      await store.write(async (tx) => {
        await tx.run(q.INSERT_DROP, [
          id, community.id, input.name, input.description ?? '', input.stock, input.priceCents, input.currency.toUpperCase(),
          input.startsAt, input.endsAt ?? null, input.perCustomerLimit, principal.accountId, now,
        ]);
        await outbox.record(tx, 'drop.created', { dropId: id, communityId: community.id });
      });
      return present(await dropRow(id));
    },

    /**
     * The hottest route, as JSON text: from memory on SQLite (exact, and
     * without a promise once the drop has been read), from the store otherwise.
     */
    statusText(id: string): string | Promise<string> {
      const copy = exact ? copies.get(id) : undefined;
      const prefix = copy && prefixes.get(id);
      return prefix ? dropJson(prefix, copy, clock.now()) : statusTextFromStore(id);
    },

    async list(input: { status: 'live' | 'scheduled'; limit: number; cursor?: string | undefined }) {
      const now = clock.now();
      const n = input.limit + 1;
      let rows: q.DropRow[];
      if (input.status === 'live') {
        const [at, id] = input.cursor ? decodeCursor(input.cursor, ['number', 'string']) : [Number.MAX_SAFE_INTEGER, '~'];
        rows = await store.q.all<q.DropRow>(q.LIST_LIVE, [now, now, at!, id!, n]);
      } else {
        const [at, id] = input.cursor ? decodeCursor(input.cursor, ['number', 'string']) : [now, ''];
        rows = await store.q.all<q.DropRow>(q.LIST_SCHEDULED, [now, at!, id!, n]);
      }
      const page = rows.slice(0, input.limit).map((r) => (exact ? (copies.get(r.id) ?? r) : r));
      const last = page[page.length - 1];
      const refs = await communities.refsByIds(page.map((r) => r.community_id));
      return {
        items: page.map((r) => presentDrop(r, refs.get(r.community_id)?.name ?? '', now)),
        nextCursor: rows.length > input.limit && last ? encodeCursor([last.starts_at, last.id]) : null,
      };
    },

    /**
     * Reserves units: the idempotency key is claimed first in the same
     * transaction as the reservation, the order row and its event, so the
     * same key and body get the first answer even when retried concurrently
     * (on PostgreSQL the second claim waits for the first to commit).
     */
    async order(dropId: string, quantity: number, key: string, principal: Principal): Promise<Order> {
      const hash = createHash('sha256').update(JSON.stringify([dropId, quantity])).digest('hex');
      const outcome = await writeOnDrop(dropId, async (tx): Promise<Outcome> => {
        const claimed = await tx.run(q.CLAIM_KEY, [principal.accountId, key, hash, clock.now()]);
        if (claimed === 0) {
          const first = await tx.get<{ request_hash: string; status_code: number; response: string }>(q.KEY, [principal.accountId, key]);
          if (!first || first.request_hash !== hash) {
            return { ok: false, code: 'idempotency_key_reused', message: 'this Idempotency-Key was used with a different request' };
          }
          metrics.orders.inc({ outcome: 'replayed' });
          return JSON.parse(first.response) as Outcome;
        }
        const decided = await decide(tx, dropId, quantity, principal);
        await tx.run(q.ANSWER_KEY, [decided.ok ? 201 : 409, JSON.stringify(decided), principal.accountId, key]);
        tx.afterCommit(() => metrics.orders.inc({ outcome: decided.ok ? 'created' : decided.code }));
        return decided;
      });
      if (!outcome.ok) throw new AppError(outcome.code, outcome.message);
      return outcome.order;
    },

    async getOrder(id: string, principal: Principal): Promise<Order> {
      return toOrder(await ownOrder(id, principal));
    },

    async myOrders(principal: Principal, input: { limit: number; cursor?: string | undefined }) {
      const before = input.cursor ? String(decodeCursor(input.cursor, ['string'])[0]) : '~';
      const rows = await store.q.all<q.OrderRow>(q.ORDERS_OF, [principal.accountId, before, input.limit + 1]);
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      return { items: page.map(toOrder), nextCursor: rows.length > input.limit && last ? encodeCursor([last.id]) : null };
    },

    /** The buyer cancels a pending order; its units go back at once. */
    async cancel(id: string, principal: Principal): Promise<Order> {
      await ownOrder(id, principal);
      const cancelled = await store.write(async (tx) => {
        const current = await tx.get<q.OrderRow>(q.ORDER_BY_ID, [id]);
        return current && current.expires_at > clock.now() ? applyEvent(tx, current, 'cancel') : null;
      });
      if (!cancelled) throw new AppError('order_not_pending', 'only a pending order can be cancelled');
      return toOrder(cancelled);
    },

    /** Expires pending orders past their time and returns their units; the number expired. */
    async expireDue(batch = 500): Promise<number> {
      const due = await store.q.all<q.OrderRow>(q.DUE_PENDING, [clock.now(), batch]);
      if (due.length === 0) return 0;
      return store.write(async (tx) => {
        let n = 0;
        for (const row of due) if (await applyEvent(tx, row, 'expire')) n++;
        return n;
      });
    },

    /**
     * A verified provider event, handled once per event id in one
     * transaction: the event row is claimed first, so a repeated event (even
     * a concurrent one) changes nothing.
     */
    async paymentEvent(event: PaymentEvent): Promise<PaymentOutcome> {
      const now = clock.now();
      return store.write(async (tx): Promise<PaymentOutcome> => {
        const fresh = await tx.run(q.RECORD_PAYMENT_EVENT, [event.id, event.data.orderId, event.type, event.data.amountCents, now]);
        if (fresh === 0) {
          metrics.paymentEvents.inc({ outcome: 'duplicate' });
          return 'duplicate';
        }
        const outcome = await decidePayment(tx, event, now);
        await tx.run(q.SET_PAYMENT_OUTCOME, [outcome, event.id]);
        tx.afterCommit(() => metrics.paymentEvents.inc({ outcome }));
        return outcome;
      });
    },

    /** An order with its drop's name and its buyer, for notifications (null when unknown). */
    async orderSummary(orderId: string): Promise<{ order: Order; dropName: string; accountId: string } | null> {
      const row = await store.q.get<q.OrderRow>(q.ORDER_BY_ID, [orderId]);
      if (!row) return null;
      const drop = await store.q.get<{ name: string }>(q.DROP_BY_ID, [row.drop_id]);
      return { order: toOrder(row), dropName: drop?.name ?? '', accountId: row.account_id };
    },

    /** Deletes idempotency keys older than their time to live. */
    async forgetOldKeys(): Promise<number> {
      return store.write((tx) => tx.run(q.DELETE_OLD_KEYS, [clock.now() - deps.keyTtlMs]));
    },
  };
}

export type DropsService = ReturnType<typeof createDropsService>;
