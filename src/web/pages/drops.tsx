import type { Drop, Order } from '../../modules/drops/index.js';
import type { Markdown } from '../markdown.js';
import { Field, Form, FormError, Layout, Pager, Time, type FilledForm, type View } from '../view.js';

export function money(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

const STATUS: Record<Drop['status'], string> = {
  scheduled: 'Not started yet',
  live: 'On sale now',
  sold_out: 'Sold out',
  ended: 'This drop has ended',
};

/**
 * A drop's page. The server's time is in the page, so the countdown is the
 * server's, whatever the reader's clock says; the stock is in an `aria-live`
 * region the script updates from the page's event stream.
 */
export function DropPage(
  props: {
    view: View;
    drop: Drop;
    markdown: Markdown;
    /** A fresh idempotency key: sending this form twice makes one order. */
    orderKey: string;
    mine: Order[];
  } & FilledForm,
) {
  const { view, drop: d } = props;
  const live = d.status === 'live';
  return (
    <Layout view={view} title={d.name}>
      <article class="drop" data-drop={d.id} data-server-time={d.serverTime} data-starts-at={d.startsAt}>
        <h1>{d.name}</h1>
        <p class="meta">
          <a href={`/c/${d.communityName}`}>c/{d.communityName}</a> · {money(d.priceCents, d.currency)} each · at most{' '}
          {d.perCustomerLimit} per customer
        </p>
        <p class="drop-status" data-status={d.status}>
          <strong data-field="status">{STATUS[d.status]}</strong>
          {d.status === 'scheduled' && (
            <>
              {' '}
              · starts <Time ms={d.startsAt} /> <span class="countdown" data-countdown={d.startsAt} />
            </>
          )}
          {d.endsAt !== null && d.status !== 'ended' && (
            <>
              {' '}
              · ends <Time ms={d.endsAt} />
            </>
          )}
        </p>
        <p class="stock" aria-live="polite" role="status">
          <span data-field="remaining">{d.remaining}</span> of {d.stock} left
        </p>
        {d.description && (
          <div class="md" dangerouslySetInnerHTML={{ __html: props.markdown.render(`d:${d.id}`, d.description) }} />
        )}
        {props.mine.length > 0 && (
          <section aria-label="Your orders of this drop" class="notice">
            {props.mine.map((o) => (
              <p>
                Your order of {o.quantity}: <a href={`/orders/${o.id}`}>{ORDER_STATUS[o.status]}</a>
              </p>
            ))}
          </section>
        )}
        {view.me ? (
          <Form view={view} action={`/drops/${d.id}/buy`} class="stack buy" id="buy">
            <FormError errors={props.errors ?? {}} />
            <input type="hidden" name="key" value={props.orderKey} />
            <Field form={props} label="Quantity" name="quantity" required maxLength={7} />
            <button type="submit" disabled={!live} data-live-only>
              Buy
            </button>
            {!live && (
              <p class="hint" data-hide-when-live>
                {d.status === 'scheduled' ? (
                  <>
                    The button works once the drop starts (<a href={`/drops/${d.id}`}>reload</a>).
                  </>
                ) : (
                  'Nothing left to buy.'
                )}
              </p>
            )}
          </Form>
        ) : (
          <p>
            <a href={`/signin?next=${encodeURIComponent(`/drops/${d.id}`)}`}>Sign in</a> to buy.
          </p>
        )}
      </article>
    </Layout>
  );
}

const ORDER_STATUS: Record<Order['status'], string> = {
  pending: 'waiting for payment',
  paid: 'paid',
  expired: 'expired (not paid in time)',
  cancelled: 'cancelled',
  refunded: 'refunded',
};

export function OrderPage(props: { view: View; order: Order; dropName: string }) {
  const { view, order: o } = props;
  return (
    <Layout view={view} title={`Order of ${props.dropName}`}>
      <h1>Your order</h1>
      <section class="order" data-order={o.id} data-order-status={o.status}>
        <p>
          {o.quantity} × <a href={`/drops/${o.dropId}`}>{props.dropName}</a> · {money(o.amountCents, o.currency)}
        </p>
        <p role="status" aria-live="polite">
          <strong>{ORDER_STATUS[o.status]}</strong>
          {o.status === 'pending' && (
            <>
              {' '}
              · held until <Time ms={o.expiresAt} />
            </>
          )}
        </p>
        {o.status === 'pending' && (
          <div class="row">
            <a class="button" href={o.paymentUrl}>
              Pay {money(o.amountCents, o.currency)}
            </a>{' '}
            <Form view={view} action={`/orders/${o.id}/cancel`} class="inline">
              <button type="submit" class="link">
                Cancel the order
              </button>
            </Form>
          </div>
        )}
      </section>
      <p>
        <a href="/orders">All your orders</a>
      </p>
    </Layout>
  );
}

export function OrdersPage(props: { view: View; orders: Order[]; names: Map<string, string>; next: string | null }) {
  return (
    <Layout view={props.view} title="Your orders">
      <h1>Your orders</h1>
      {props.orders.length === 0 ? (
        <p class="empty">No orders yet.</p>
      ) : (
        <ul class="comment-list">
          {props.orders.map((o) => (
            <li>
              <a href={`/orders/${o.id}`}>
                {o.quantity} × {props.names.get(o.dropId) ?? 'a drop'}
              </a>{' '}
              · {money(o.amountCents, o.currency)} · {ORDER_STATUS[o.status]} · <Time ms={o.createdAt} />
            </li>
          ))}
        </ul>
      )}
      <Pager next={props.next} label="Older orders" />
    </Layout>
  );
}

/** The built-in provider's checkout address: it takes no payment itself; the provider's signed webhook marks the order paid. */
export function PayPage(props: { view: View; order: Order }) {
  const { order: o } = props;
  return (
    <Layout view={props.view} title="Payment">
      <h1>Payment</h1>
      <p>
        This site uses the built-in payment provider, which takes no card details itself: the order of{' '}
        {money(o.amountCents, o.currency)} is marked paid when the payment provider confirms it (its signed webhook,
        `POST /api/v1/payments/webhook`). Until then it is held until <Time ms={o.expiresAt} />.
      </p>
      <p>
        <a href={`/orders/${o.id}`}>Back to the order</a>
      </p>
    </Layout>
  );
}

export function DropsPage(props: { view: View; live: Drop[]; scheduled: Drop[] }) {
  const list = (drops: Drop[], empty: string) =>
    drops.length === 0 ? (
      <p class="empty">{empty}</p>
    ) : (
      <ul class="comment-list">
        {drops.map((d) => (
          <li>
            <a href={`/drops/${d.id}`}>{d.name}</a> · {money(d.priceCents, d.currency)} · {d.remaining} of {d.stock}{' '}
            left ·{' '}
            {d.status === 'scheduled' ? (
              <>
                starts <Time ms={d.startsAt} />
              </>
            ) : (
              STATUS[d.status]
            )}
          </li>
        ))}
      </ul>
    );
  return (
    <Layout view={props.view} title="Drops">
      <h1>Drops</h1>
      <h2>On sale now</h2>
      {list(props.live, 'Nothing on sale right now.')}
      <h2>Coming up</h2>
      {list(props.scheduled, 'Nothing scheduled.')}
    </Layout>
  );
}
