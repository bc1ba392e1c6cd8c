import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** How far a webhook's signed time may be from ours. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/**
 * Checks `Agora-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + rawBody)>`:
 * the time within the tolerance and one v1 equal to ours, compared in constant time.
 */
export function verifySignature(secret: string, header: string | undefined, rawBody: string, nowMs: number): boolean {
  if (!secret || !header) return false;
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && value && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (name === 'v1' && value && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  if (t === null || Math.abs(nowMs - t * 1000) > SIGNATURE_TOLERANCE_MS) return false;
  const expected = Buffer.from(signPayload(secret, t, rawBody), 'hex');
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}

/** The v1 signature of a body at a time (what the provider sends; tests and tools use it too). */
export function signPayload(secret: string, t: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
}
