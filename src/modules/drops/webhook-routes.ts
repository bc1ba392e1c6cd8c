import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { responses, type App } from '../../platform/http/index.js';
import { verifySignature } from './payments.js';
import type { DropsService, PaymentEvent } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody: string | null;
  }
}

/**
 * `POST /payments/webhook`: the provider's signed events. Its own plugin,
 * because the signature covers the raw body: here JSON bodies are kept as
 * text beside the parsed value. The signature is checked before the body's
 * schema, so a forged request learns nothing about what would be accepted.
 */
export function webhookRoutes(drops: DropsService, secret: string, clock: Clock): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify as unknown as App;
    app.decorateRequest('rawBody', null);
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      request.rawBody = body as string;
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new AppError('invalid_json', 'the body is not valid JSON'));
      }
    });

    app.post(
      '/api/v1/payments/webhook',
      {
        preValidation: (request, _reply, done) => {
          const header = request.headers['agora-signature'];
          const ok = verifySignature(
            secret,
            typeof header === 'string' ? header : undefined,
            request.rawBody ?? '',
            clock.now(),
          );
          done(
            ok
              ? undefined
              : new AppError(
                  'invalid_signature',
                  'the Agora-Signature header does not match this body, or is older than five minutes',
                ),
          );
        },
        schema: {
          tags: ['payments'],
          summary:
            'Payment provider events, signed: Agora-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>',
          body: Type.Object({
            id: Type.String({ minLength: 1, maxLength: 255 }),
            type: Type.Union([Type.Literal('payment.succeeded'), Type.Literal('payment.failed')]),
            data: Type.Object({
              orderId: Type.String({ minLength: 1, maxLength: 64 }),
              amountCents: Type.Integer({ minimum: 0 }),
            }),
          }),
          response: responses({
            200: Type.Object({
              received: Type.Boolean(),
              outcome: Type.Union(
                ['paid', 'refund_due', 'amount_mismatch', 'failed', 'unknown_order', 'duplicate'].map((o) =>
                  Type.Literal(o),
                ),
              ),
            }),
          }),
        },
      },
      async (request) => ({ received: true, outcome: await drops.paymentEvent(request.body as PaymentEvent) }),
    );
  };
}
