import type { OrderStatus } from './lifecycle.js';
import { isOrderStatus } from './lifecycle.js';
import type { DropRow, OrderRow } from './queries.js';

export type DropStatus = 'scheduled' | 'live' | 'sold_out' | 'ended';

export interface Drop {
  id: string;
  communityName: string;
  name: string;
  description: string;
  stock: number;
  sold: number;
  remaining: number;
  status: DropStatus;
  startsAt: number;
  endsAt: number | null;
  priceCents: number;
  currency: string;
  perCustomerLimit: number;
  createdAt: number;
  serverTime: number;
}

export interface Order {
  id: string;
  dropId: string;
  quantity: number;
  status: OrderStatus;
  amountCents: number;
  currency: string;
  createdAt: number;
  expiresAt: number;
  paymentUrl: string;
}

/** Where a drop stands at `now`: not started, ended, sold out or live. */
export function dropStatus(row: DropRow, now: number): DropStatus {
  if (now < row.starts_at) return 'scheduled';
  if (row.ends_at !== null && now >= row.ends_at) return 'ended';
  return row.sold >= row.stock ? 'sold_out' : 'live';
}

/** What `sold`, `remaining`, `status` and `serverTime` leave out: fixed when the drop is created. */
function fixedFields(row: DropRow, communityName: string) {
  return {
    id: row.id,
    communityName,
    name: row.name,
    description: row.description,
    stock: row.stock,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    priceCents: row.price_cents,
    currency: row.currency,
    perCustomerLimit: row.per_customer_limit,
    createdAt: row.created_at,
  };
}

export function presentDrop(row: DropRow, communityName: string, now: number): Drop {
  return {
    ...fixedFields(row, communityName),
    sold: row.sold,
    remaining: row.stock - row.sold,
    status: dropStatus(row, now),
    serverTime: now,
  };
}

/**
 * A drop's answer as JSON text, for the hottest route: the fixed fields are
 * serialized once per drop (`dropJsonPrefix`) and only the other four are
 * written per request. Parses to exactly `presentDrop`'s object.
 */
export function dropJsonPrefix(row: DropRow, communityName: string): string {
  return JSON.stringify(fixedFields(row, communityName)).slice(0, -1);
}

export function dropJson(prefix: string, row: DropRow, now: number): string {
  return `${prefix},"sold":${row.sold},"remaining":${row.stock - row.sold},"status":"${dropStatus(row, now)}","serverTime":${now}}`;
}

/** A pending order past its expiry reads as expired, even before the sweeper has stored that. */
export function presentOrder(row: OrderRow, paymentUrl: string, now: number): Order {
  const stored = isOrderStatus(row.status) ? row.status : 'pending';
  return {
    id: row.id,
    dropId: row.drop_id,
    quantity: row.quantity,
    status: stored === 'pending' && row.expires_at <= now ? 'expired' : stored,
    amountCents: row.amount_cents,
    currency: row.currency,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    paymentUrl,
  };
}
