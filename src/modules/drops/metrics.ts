import { Counter, type Registry } from 'prom-client';

/** The drops module's counters, registered on the process's registry (served at /metrics). */
export function createDropMetrics(registry: Registry) {
  const registers = [registry];
  return {
    orders: new Counter({
      name: 'agora_drop_orders_total',
      help: 'Order requests by outcome: created, replayed (same idempotency key), or the refusal code (sold_out, limit_exceeded, …)',
      labelNames: ['outcome'],
      registers,
    }),
    unitsReserved: new Counter({
      name: 'agora_drop_units_reserved_total',
      help: 'Units reserved by new orders',
      registers,
    }),
    sellouts: new Counter({
      name: 'agora_drop_sellouts_total',
      help: "Times a drop's last unit was reserved",
      registers,
    }),
    unitsReleased: new Counter({
      name: 'agora_drop_units_released_total',
      help: 'Units returned to their drop, by reason (expired, cancelled)',
      labelNames: ['reason'],
      registers,
    }),
    paymentEvents: new Counter({
      name: 'agora_payment_events_total',
      help: 'Payment provider events by outcome',
      labelNames: ['outcome'],
      registers,
    }),
  };
}

export type DropMetrics = ReturnType<typeof createDropMetrics>;
