import { createHash } from 'node:crypto';
import type { CommunitiesModule } from '../communities/index.js';
import type { ModerationModule } from '../moderation/index.js';
import { createBatcher } from '../../platform/batch.js';
import { createFreshReads } from '../../platform/cache.js';
import { sizeOf, type Charge, type MemoryBudget } from '../../platform/memory.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, ERROR_STATUS, type ErrorCode } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { Cursors } from '../../platform/cursor.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Outbox } from '../../platform/outbox/index.js';
import type { Store, Tx } from '../../platform/store/index.js';
import { HOLDS_STOCK, isOrderStatus, transition, type OrderEvent, type OrderStatus } from './lifecycle.js';
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
  cursors: Cursors;
  moderation: ModerationModule;
  memory: MemoryBudget;
  /** Unpaid orders one account may hold at once, over every drop. */
  pendingPerAccount: number;
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

/** An order request, with the hash of what it asks (drop, quantity) for its idempotency key. */
interface OrderRequest {
  quantity: number;
  key: string;
  hash: string;
  principal: Principal;
}

/** An order request's outcome, as stored for its idempotency key and replayed. */
type Outcome = { ok: true; order: Order } | { ok: false; code: ErrorCode; message: string };

export function createDropsService(deps: DropsDeps) {
  const { store, clock, ids, outbox, communities, payments, metrics, cursors } = deps;

  // Drop rows in memory, served by GET /drops/:id when this process is the
  // only writer (SQLite): every change to `sold` goes through this service
  // and is applied to the copy right after its commit, so `remaining` is
  // exact. On PostgreSQL other processes sell too: every read asks the store,
  // and reads of one drop asked together share a query that starts after
  // they were all asked (createFreshReads), so each is still exact.
  const copies = new Map<string, q.DropRow>();
  // Each copy (with its JSON prefix, below) is charged to the memory budget, least recently read evicted first.
  const charges = new Map<string, Charge>();
  const charged = (id: string) => {
    const bytes = 2 * sizeOf(copies.get(id)) + sizeOf(prefixes.get(id));
    const charge = charges.get(id);
    if (charge) return charge.resize(bytes);
    charges.set(
      id,
      deps.memory.charge('drops', bytes, () => {
        copies.delete(id);
        prefixes.delete(id);
        charges.delete(id);
      }),
    );
  };
  const keepCopy = (id: string, row: q.DropRow) => {
    copies.set(id, row);
    charged(id);
  };
  const readDrop = createFreshReads((id: string) => store.q.get<q.DropRow>(q.DROP_BY_ID, [id]));
  const exact = () => store.capabilities.exactCopies;
  // At a swap the kept rows (and their JSON prefixes) are the old store's: dropped.
  store.onReplaced(() => {
    for (const charge of [...charges.values()]) charge.release();
    copies.clear();
    prefixes.clear();
    charges.clear();
  });
  /**
   * The one way to change a drop's `sold`: reserves (`RESERVE`, refused past the
   * stock: undefined) or releases units, and after the commit sets the kept copy
   * from the row's new value.
   */
  const soldWatchers = new Set<(dropId: string | null) => void>();
  // Every process hears every committed change of a drop's `sold` (this one at the commit,
  // the others when the store delivers it); a gap (missed notices) is a change of any drop.
  store.notices.subscribe(
    'drops.sold',
    (dropId) => {
      for (const watcher of soldWatchers) watcher(dropId);
    },
    () => {
      for (const watcher of soldWatchers) watcher(null);
    },
  );
  async function moveSold(
    tx: Tx,
    dropId: string,
    units: number,
    how: 'reserve' | 'release',
  ): Promise<{ sold: number } | undefined> {
    const moved = await tx.get<{ sold: number }>(
      how === 'reserve' ? q.RESERVE : q.RELEASE,
      how === 'reserve' ? [units, dropId, units] : [units, dropId],
    );
    if (moved) {
      tx.afterCommit(() => {
        const copy = copies.get(dropId);
        if (copy) copy.sold = moved.sold;
      });
      await store.notices.publish(tx, 'drops.sold', dropId);
    }
    return moved;
  }

  async function dropRow(id: string): Promise<q.DropRow> {
    const copy = exact() ? copies.get(id) : undefined;
    if (copy) return copy;
    const row = await readDrop(id);
    if (!row) throw new AppError('not_found', 'no such drop');
    if (exact() && !copies.has(id)) keepCopy(id, row);
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
      charged(id);
    }
    return dropJson(prefix, row, clock.now());
  }

  const toOrder = (row: q.OrderRow) =>
    presentOrder(
      row,
      payments.checkoutUrl({ id: row.id, amountCents: row.amount_cents, currency: row.currency }),
      clock.now(),
    );

  async function ownOrder(id: string, principal: Principal): Promise<q.OrderRow> {
    const row = await store.q.get<q.OrderRow>(q.ORDER_BY_ID, [id]);
    if (!row) throw new AppError('not_found', 'no such order');
    // Someone else's order is as unknown as one that does not exist: the answer reveals nothing.
    if (row.account_id !== principal.accountId) throw new AppError('not_found', 'no such order');
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
      await moveSold(tx, row.drop_id, row.quantity, 'release');
      tx.afterCommit(() => metrics.unitsReleased.inc({ reason: to }, row.quantity));
    }
    // No event leads back to pending (lifecycle.ts).
    await outbox.record(tx, `order.${to as Exclude<OrderStatus, 'pending'>}`, {
      orderId: row.id,
      dropId: row.drop_id,
      accountId: row.account_id,
      quantity: row.quantity,
    });
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

  /**
   * Decides a batch of order requests (each with a freshly claimed key) in
   * arrival order, under the drop's row lock: window, per-customer limit over
   * pending + paid units (counting earlier requests of the batch), stock.
   * Then one conditional reservation for all the units granted, one insert
   * for the orders and one for their events.
   */
  async function decideAll(tx: Tx, dropId: string, requests: OrderRequest[]): Promise<Outcome[]> {
    const now = clock.now();
    const drop = await tx.get<q.DropRow>(q.LOCK_DROP[store.dialect], [dropId]);
    if (!drop) return requests.map(() => ({ ok: false, code: 'not_found', message: 'no such drop' }));
    if (now < drop.starts_at)
      return requests.map(() => ({ ok: false, code: 'not_started', message: 'this drop has not started yet' }));
    if (drop.ends_at !== null && now >= drop.ends_at)
      return requests.map(() => ({ ok: false, code: 'ended', message: 'this drop has ended' }));
    const buyers = [...new Set(requests.map((r) => r.principal.accountId))];
    const [heldRows, pendingRows, banned] = await Promise.all([
      tx.all<{ account_id: string; held: number }>(q.HELD_BY_BUYERS(buyers.length), [dropId, ...buyers]),
      tx.all<{ account_id: string; n: number }>(q.PENDING_OF_BUYERS(buyers.length), buyers),
      deps.moderation.bannedAmong(drop.community_id, buyers, tx),
    ]);
    const held = new Map(heldRows.map((r) => [r.account_id, Number(r.held)]));
    const pending = new Map(pendingRows.map((r) => [r.account_id, Number(r.n)]));
    let sold = drop.sold;
    const orders: q.OrderRow[] = [];
    const outcomes = requests.map((r): Outcome => {
      const account = r.principal.accountId;
      if (banned.has(account)) return { ok: false, code: 'banned', message: 'you are banned from this community' };
      const has = held.get(account) ?? 0;
      if (has + r.quantity > drop.per_customer_limit) {
        return {
          ok: false,
          code: 'limit_exceeded',
          message: `at most ${drop.per_customer_limit} per customer (you hold ${has})`,
        };
      }
      const unpaid = pending.get(account) ?? 0;
      if (unpaid >= deps.pendingPerAccount) {
        return {
          ok: false,
          code: 'too_many_pending',
          message: `you have ${unpaid} unpaid orders: pay or cancel one first`,
        };
      }
      if (drop.price_cents * r.quantity > Number.MAX_SAFE_INTEGER)
        return { ok: false, code: 'invalid_request', message: 'the amount is too large' };
      if (sold + r.quantity > drop.stock)
        return { ok: false, code: 'sold_out', message: `not enough left for ${r.quantity}` };
      sold += r.quantity;
      held.set(account, has + r.quantity);
      pending.set(account, unpaid + 1);
      const order: q.OrderRow = {
        id: ids.next(),
        drop_id: dropId,
        account_id: account,
        quantity: r.quantity,
        amount_cents: drop.price_cents * r.quantity,
        currency: drop.currency,
        status: 'pending',
        created_at: now,
        expires_at: now + deps.orderTtlMs,
        updated_at: now,
      };
      orders.push(order);
      return { ok: true, order: toOrder(order) };
    });
    if (orders.length === 0) return outcomes;
    const units = sold - drop.sold;
    const reserved = await moveSold(tx, dropId, units, 'reserve');
    // Decided under the row lock, so this cannot fail; if it ever did, nothing is kept.
    if (!reserved) throw new Error(`drop ${dropId}: stock changed under its row lock`);
    tx.afterCommit(() => {
      metrics.unitsReserved.inc(units);
      if (reserved.sold >= drop.stock) metrics.sellouts.inc();
    });
    await tx.run(
      q.INSERT_ORDERS(orders.length),
      orders.flatMap((o) => [
        o.id,
        dropId,
        o.account_id,
        o.quantity,
        o.amount_cents,
        o.currency,
        now,
        o.expires_at,
        now,
      ]),
    );
    await outbox.recordMany(
      tx,
      'order.created',
      orders.map((o) => ({
        orderId: o.id,
        dropId,
        accountId: o.account_id,
        quantity: o.quantity,
        amountCents: o.amount_cents,
        currency: o.currency,
      })),
    );
    return outcomes;
  }

  /**
   * One transaction for a batch of order requests of one drop: every key
   * claimed at once (sorted, so two batches never wait on each other's keys
   * in opposite orders), the requests with fresh keys decided together, the
   * answers stored with their keys. A key claimed before (or earlier in the
   * batch) replays its first answer, or is refused for another body.
   */
  async function orderBatch(tx: Tx, dropId: string, requests: OrderRequest[]): Promise<Outcome[]> {
    const now = clock.now();
    const keyOf = (r: OrderRequest) => `${r.principal.accountId}\u0000${r.key}`;
    const first = new Map<string, OrderRequest>();
    for (const r of requests) if (!first.has(keyOf(r))) first.set(keyOf(r), r);
    const claims = [...first.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    const claimed = new Set(
      (
        await tx.all<{ account_id: string; idempotency_key: string }>(
          q.CLAIM_KEYS(claims.length),
          claims.flatMap((r) => [r.principal.accountId, r.key, r.hash, now]),
        )
      ).map((row) => `${row.account_id}\u0000${row.idempotency_key}`),
    );
    const fresh = [...first.values()].filter((r) => claimed.has(keyOf(r)));
    const decided = new Map<OrderRequest, Outcome>();
    if (fresh.length > 0) {
      const outcomes = await decideAll(tx, dropId, fresh);
      fresh.forEach((r, i) => decided.set(r, outcomes[i]!));
      await tx.run(
        q.ANSWER_KEYS(fresh.length),
        fresh.flatMap((r) => {
          const outcome = decided.get(r)!;
          return [
            r.principal.accountId,
            r.key,
            r.hash,
            outcome.ok ? 201 : ERROR_STATUS[outcome.code],
            JSON.stringify(outcome),
            now,
          ];
        }),
      );
    }
    const reused: Outcome = {
      ok: false,
      code: 'idempotency_key_reused',
      message: 'this Idempotency-Key was used with a different request',
    };
    const answers: Outcome[] = [];
    for (const r of requests) {
      const own = decided.get(r);
      if (own) {
        answers.push(own);
        continue;
      }
      const firstOfBatch = first.get(keyOf(r))!;
      const earlier = decided.get(firstOfBatch);
      if (earlier) {
        answers.push(firstOfBatch.hash === r.hash ? earlier : reused);
        continue;
      }
      const stored = await tx.get<{ request_hash: string; response: string }>(q.KEY, [r.principal.accountId, r.key]);
      answers.push(stored && stored.request_hash === r.hash ? (JSON.parse(stored.response) as Outcome) : reused);
    }
    const label = (r: OrderRequest, outcome: Outcome) => {
      if (decided.has(r)) return outcome.ok ? 'created' : outcome.code;
      return outcome === reused ? reused.code : 'replayed';
    };
    tx.afterCommit(() => requests.forEach((r, i) => metrics.orders.inc({ outcome: label(r, answers[i]!) })));
    return answers;
  }

  // Order requests of one drop that arrive while a batch of it is being
  // decided go together in the next batch: one transaction, one row lock
  // wait, a handful of statements whatever the batch size.
  const orderBatches = createBatcher<OrderRequest, Outcome>((dropId, requests) =>
    store.write((tx) => orderBatch(tx, dropId, requests)),
  );

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
          id,
          community.id,
          input.name,
          input.description ?? '',
          input.stock,
          input.priceCents,
          input.currency.toUpperCase(),
          input.startsAt,
          input.endsAt ?? null,
          input.perCustomerLimit,
          principal.accountId,
          now,
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
      const copy = exact() ? copies.get(id) : undefined;
      const prefix = copy && prefixes.get(id);
      if (!prefix) return statusTextFromStore(id);
      charges.get(id)?.touch();
      return dropJson(prefix, copy, clock.now());
    },

    /**
     * Calls `watcher` after each commit that changed a drop's `sold` in this process
     * (reserve, release, expiry, cancellation), with the new value. Returns the unsubscribe.
     */
    /** `watcher` hears each committed change of a drop's `sold`, made by any process on the store (null: any drop may have changed). */
    watchSold(watcher: (dropId: string | null) => void): () => void {
      soldWatchers.add(watcher);
      return () => soldWatchers.delete(watcher);
    },

    async list(input: { status: 'live' | 'scheduled'; limit: number; cursor?: string | undefined }) {
      const now = clock.now();
      const n = input.limit + 1;
      let rows: q.DropRow[];
      if (input.status === 'live') {
        const [at, id] = input.cursor
          ? cursors.decode('drops:live', input.cursor, ['int', 'id'])
          : [Number.MAX_SAFE_INTEGER, '~'];
        rows = await store.q.all<q.DropRow>(q.LIST_LIVE, [now, now, at, id, n]);
      } else {
        const [at, id] = input.cursor ? cursors.decode('drops:scheduled', input.cursor, ['int', 'id']) : [now, ''];
        rows = await store.q.all<q.DropRow>(q.LIST_SCHEDULED, [now, at, id, n]);
      }
      const page = rows.slice(0, input.limit).map((r) => (exact() ? (copies.get(r.id) ?? r) : r));
      const last = page[page.length - 1];
      const refs = await communities.refsByIds(page.map((r) => r.community_id));
      return {
        items: page.map((r) => presentDrop(r, refs.get(r.community_id)?.name ?? '', now)),
        nextCursor:
          rows.length > input.limit && last ? cursors.encode(`drops:${input.status}`, [last.starts_at, last.id]) : null,
      };
    },

    /**
     * Reserves units: the idempotency key is claimed in the same transaction
     * as the reservation, the order row and its event, so the same key and
     * body get the first answer even when retried concurrently (on
     * PostgreSQL a second claim waits for the first to commit). Requests of
     * one drop arriving together are decided together (orderBatches).
     */
    async order(dropId: string, quantity: number, key: string, principal: Principal): Promise<Order> {
      const hash = createHash('sha256')
        .update(JSON.stringify([dropId, quantity]))
        .digest('hex');
      const outcome = await orderBatches(dropId, { quantity, key, hash, principal });
      if (!outcome.ok) throw new AppError(outcome.code, outcome.message);
      return outcome.order;
    },

    async getOrder(id: string, principal: Principal): Promise<Order> {
      return toOrder(await ownOrder(id, principal));
    },

    async myOrders(principal: Principal, input: { limit: number; cursor?: string | undefined }) {
      const before = input.cursor ? cursors.decode('orders', input.cursor, ['id'])[0] : '~';
      const rows = await store.q.all<q.OrderRow>(q.ORDERS_OF, [principal.accountId, before, input.limit + 1]);
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(toOrder),
        nextCursor: rows.length > input.limit && last ? cursors.encode('orders', [last.id]) : null,
      };
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
        const fresh = await tx.run(q.RECORD_PAYMENT_EVENT, [
          event.id,
          event.data.orderId,
          event.type,
          event.data.amountCents,
          now,
        ]);
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
