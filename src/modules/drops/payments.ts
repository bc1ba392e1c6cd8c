/**
 * The payment provider seam. An order gets a `paymentUrl` from the provider
 * when it is created; the provider later calls the signed webhook.
 */
export interface PaymentProvider {
  /** Where the buyer pays for the order. */
  checkoutUrl(order: { id: string; amountCents: number; currency: string }): string;
}

/** The built-in provider: a checkout address under the site's public URL. */
export function createBuiltInProvider(publicUrl: string): PaymentProvider {
  const base = publicUrl.replace(/\/+$/, '');
  return { checkoutUrl: (order) => `${base}/pay/${encodeURIComponent(order.id)}` };
}
