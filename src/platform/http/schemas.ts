import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code (snake_case)' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The offending field, for invalid_request' })),
    }),
  },
  { $id: 'Error', description: 'Every 4xx/5xx answer has this shape' },
);

/** Response schemas for a route: its success shapes plus the error shape for every failure. */
export function responses<T extends Record<number, TSchema>>(ok: T) {
  return { ...ok, '4xx': ErrorBody, '5xx': ErrorBody };
}

/** `{"items":[...],"nextCursor":"..."|null}` */
export function List<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/** An id in a path or body (ids are made by the application; this only bounds what a client may send). */
export const Id = Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' });
/** `/…/:id` */
export const IdParams = Type.Object({ id: Id });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * Sends answers through the route's response schema, serializing each answer
 * object only once: for answers handed out again as the same object (pages
 * kept in memory). Keyed by identity; an answer's bytes go when it does.
 */
export function createSerializeOnce() {
  const bytes = new WeakMap<object, Buffer>();
  return (reply: FastifyReply, answer: object): FastifyReply => {
    let body = bytes.get(answer);
    if (!body) {
      body = Buffer.from(reply.serialize(answer) as string);
      bytes.set(answer, body);
    }
    return sendJsonText(reply, body);
  };
}

/** Sends JSON already serialized (text or bytes) as the answer, past the route's serializer. */
export function sendJsonText(reply: FastifyReply, json: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
