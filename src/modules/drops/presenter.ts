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

export function presentDrop(row: DropRow, communityName: string, now: number): Drop {
  return {
    id: row.id,
    communityName,
    name: row.name,
    description: row.description,
    stock: row.stock,
    sold: row.sold,
    remaining: row.stock - row.sold,
    status: dropStatus(row, now),
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    priceCents: row.price_cents,
    currency: row.currency,
    perCustomerLimit: row.per_customer_limit,
    createdAt: row.created_at,
    serverTime: now,
  };
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
