/**
 * An order's lifecycle as data: its states and the transitions between them.
 * Every status change goes through `transition`; nothing else decides.
 */
export type OrderStatus = 'pending' | 'paid' | 'expired' | 'cancelled' | 'refunded';
export type OrderEvent = 'pay' | 'expire' | 'cancel' | 'refund';

export const TRANSITIONS: Record<OrderStatus, Partial<Record<OrderEvent, OrderStatus>>> = {
  pending: { pay: 'paid', expire: 'expired', cancel: 'cancelled' },
  paid: { refund: 'refunded' },
  expired: {},
  cancelled: {},
  refunded: {},
};

/** Whether an order in this status holds units of its drop's stock. */
export const HOLDS_STOCK: Record<OrderStatus, boolean> = {
  pending: true,
  paid: true,
  expired: false,
  cancelled: false,
  refunded: false,
};

/** The status after the event, or null when the event is not allowed from this status. */
export function transition(from: OrderStatus, event: OrderEvent): OrderStatus | null {
  return TRANSITIONS[from][event] ?? null;
}

/** Statuses a stored status may be in, for a status read from the store. */
export function isOrderStatus(value: string): value is OrderStatus {
  return value in TRANSITIONS;
}
