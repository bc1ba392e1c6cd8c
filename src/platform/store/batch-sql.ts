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
