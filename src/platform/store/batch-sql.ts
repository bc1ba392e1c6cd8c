/**
 * Statements that write a batch in one round trip: `rows(n, '(?, ?)')` is
 * `n` copies of a row of values; `bySize(build)` builds a statement's text
 * once per batch size, so the same size always sends the same text (and
 * each text is prepared once per connection).
 */
export function rows(n: number, row: string): string {
  return Array.from({ length: n }, () => row).join(', ');
}

export function bySize(build: (n: number) => string): (n: number) => string {
  const built = new Map<number, string>();
  return (n) => {
    let sql = built.get(n);
    if (sql === undefined) {
      sql = build(n);
      built.set(n, sql);
    }
    return sql;
  };
}

/** The most values put in one IN list: well inside both stores' parameter limits. */
export const IN_LIST_MAX = 500;

/** A query's rows for any number of values: run once per slice of at most IN_LIST_MAX values, rows in slice order. */
export async function allIn<V, T>(values: readonly V[], query: (slice: V[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < values.length; i += IN_LIST_MAX) out.push(...(await query(values.slice(i, i + IN_LIST_MAX))));
  return out;
}
