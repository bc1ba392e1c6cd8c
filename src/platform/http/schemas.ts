import { Type, type TSchema } from '@sinclair/typebox';

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

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
