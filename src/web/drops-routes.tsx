import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Drop, DropsModule, Order } from '../modules/drops/index.js';
import { AppError } from '../platform/errors.js';
import { accountLimit, clientKey, type App } from '../platform/http/index.js';
import type { Markdown } from './markdown.js';
import type { FieldRule } from './forms.js';
import { Cursor, IdParam, nextPage, wantsJson, type Kit } from './kit.js';
import { DropPage, DropsPage, OrderPage, OrdersPage, PayPage } from './pages/drops.js';
import type { StockStreams } from './stock-streams.js';
import type { FilledForm } from './view.js';
import { Type } from '@sinclair/typebox';

export interface DropPagesDeps {
  drops: DropsModule;
  streams: StockStreams;
  markdown: Markdown;
  ordersPerMinute: number;
}

const BUY = {
  quantity: { max: 7, min: 1, trim: true, pattern: /^[1-9][0-9]{0,6}$/, message: 'A whole number of units, 1 or more' },
  key: { max: 255, min: 1, message: 'This form has no order key: reload the page' },
} satisfies Record<string, FieldRule>;

/** The drop page (live stock over Server-Sent Events), buying, the orders and their states. */
export function dropPages(app: App, kit: Kit, deps: DropPagesDeps): void {
  const { drops, streams, markdown } = deps;
  const { view, send, postedBy, signedIn, submitted, back } = kit;
  const dropOf = async (id: string) => JSON.parse(await drops.statusText(id)) as Drop;

  /** The orders the reader has of this drop, from the first page of their orders. */
  const mine = async (request: FastifyRequest, dropId: string): Promise<Order[]> =>
    request.principal
      ? (await drops.myOrders(request.principal, { limit: 50 })).items.filter((o) => o.dropId === dropId)
      : [];
  const dropPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    status: number,
    form?: FilledForm,
  ) => {
    const [drop, orders] = await Promise.all([dropOf(id), mine(request, id)]);
    return send(
      reply,
      status,
      <DropPage
        view={view(request, reply)}
        drop={drop}
        markdown={markdown}
        orderKey={randomUUID()}
        mine={orders}
        values={form?.values ?? { quantity: '1' }}
        errors={form?.errors}
      />,
    );
  };

  app.get('/drops', async (request, reply) => {
    const [live, scheduled] = await Promise.all([
      drops.list({ status: 'live', limit: 50 }),
      drops.list({ status: 'scheduled', limit: 50 }),
    ]);
    return send(reply, 200, <DropsPage view={view(request, reply)} live={live.items} scheduled={scheduled.items} />);
  });

  app.get('/drops/:id', { schema: IdParam }, (request, reply) =>
    dropPage(request, reply, (request.params as { id: string }).id, 200),
  );

  // The page's live stock: held open, so out of the per-minute request limit (streams have their own).
  app.get('/drops/:id/stream', { schema: IdParam, config: { rateLimit: false } }, async (request, reply) => {
    await streams.open((request.params as { id: string }).id, clientKey(request.ip), reply.raw);
    reply.hijack();
  });

  app.post(
    '/drops/:id/buy',
    { schema: IdParam, config: accountLimit(deps.ordersPerMinute, 60_000) },
    (request, reply) => {
      const { id } = request.params as { id: string };
      return submitted(request, reply, {
        rules: BUY,
        async act({ quantity, key }, me) {
          const order = await drops.order(id, Number(quantity), `web:${key}`, me!);
          return `/orders/${order.id}`;
        },
        again: (values, errors) => dropPage(request, reply, id, 400, { values, errors }),
        fields: { limit_exceeded: 'quantity', invalid_request: 'quantity' },
      });
    },
  );

  app.get('/orders', { schema: { querystring: Type.Object({ cursor: Cursor }) } }, async (request, reply) => {
    const me = signedIn(request, reply);
    if (!me) return reply;
    const page = await drops.myOrders(me, { limit: 25, cursor: (request.query as { cursor?: string }).cursor });
    const orders = page.items;
    const names = new Map<string, string>();
    await Promise.all(
      [...new Set(orders.map((o) => o.dropId))].map(async (dropId) => names.set(dropId, (await dropOf(dropId)).name)),
    );
    const next = nextPage('/orders', page.nextCursor);
    return send(reply, 200, <OrdersPage view={view(request, reply)} orders={orders} names={names} next={next} />);
  });

  const order = async (request: FastifyRequest, reply: FastifyReply) => {
    const me = signedIn(request, reply);
    return me ? await drops.getOrder((request.params as { id: string }).id, me) : null;
  };
  app.get('/orders/:id', { schema: IdParam }, async (request, reply) => {
    const o = await order(request, reply);
    if (!o) return reply;
    if (wantsJson(request)) return { id: o.id, status: o.status };
    return send(
      reply,
      200,
      <OrderPage view={view(request, reply)} order={o} dropName={(await dropOf(o.dropId)).name} />,
    );
  });
  app.get('/pay/:id', { schema: IdParam }, async (request, reply) => {
    const o = await order(request, reply);
    if (!o) return reply;
    return send(reply, 200, <PayPage view={view(request, reply)} order={o} />);
  });
  app.post('/orders/:id/cancel', { schema: IdParam }, async (request, reply) => {
    const me = postedBy(request, reply);
    if (!me) return reply;
    const { id } = request.params as { id: string };
    const cancelled = await drops.cancel(id, me).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'order_not_pending') return null; // paid or expired meanwhile: the page says which
      throw error;
    });
    return back(reply, `/orders/${cancelled?.id ?? id}`);
  });
}
