import type { AppError } from '../errors.js';
import type { Param, Queryable } from './types.js';

/** A piece of SQL and its parameters, in the order of its `?` placeholders. */
export interface Fragment {
  readonly sql: string;
  readonly params: readonly Param[];
}

/**
 * A business rule a write checks inside its own statement (so that the check
 * and the write see the same rows, in one round trip): a SQL predicate over
 * the tables of the module that owns the rule, and the refusal to give when
 * it does not hold. The module that owns the table makes the guard; the
 * module that writes puts it into its statement with `sql` and, when the
 * statement refuses, asks `broken` which rule did.
 */
export interface Guard extends Fragment {
  /** Made only when needed (an error captures a stack). */
  readonly refusal: () => AppError;
}

/**
 * A statement from text, fragments and parameters: a fragment is put in as
 * its SQL with its parameters, any other value is a `?` parameter. The
 * parameters come out in the order of their placeholders, whatever the
 * fragments hold.
 */
export function sql(strings: TemplateStringsArray, ...parts: readonly (Fragment | Param)[]): Fragment {
  let text = strings[0] as string;
  const params: Param[] = [];
  parts.forEach((part, i) => {
    if (isFragment(part)) {
      text += part.sql;
      params.push(...part.params);
    } else {
      text += '?';
      params.push(part);
    }
    text += strings[i + 1] as string;
  });
  return { sql: text, params };
}

/** Every guard holds: a predicate of them all (TRUE when there are none). */
export function allOf(guards: readonly Guard[]): Fragment {
  if (guards.length === 0) return { sql: '1 = 1', params: [] };
  return {
    sql: guards.map((g) => `(${g.sql})`).join(' AND '),
    params: guards.flatMap((g) => g.params),
  };
}

/**
 * The first guard that does not hold now, read in one statement from the
 * same predicates the write used (null: they all hold). A predicate that is
 * NULL (a row it reads is missing) does not hold.
 */
export async function broken(within: Queryable, guards: readonly Guard[]): Promise<Guard | null> {
  if (guards.length === 0) return null;
  const columns = guards.map((g, i) => `CASE WHEN ${g.sql} THEN 1 ELSE 0 END AS g${i}`).join(', ');
  const found = await within.get<Record<string, number | string>>(
    `SELECT ${columns}`,
    guards.flatMap((g) => g.params),
  );
  return guards.find((_, i) => Number(found?.[`g${i}`]) !== 1) ?? null;
}

function isFragment(part: Fragment | Param): part is Fragment {
  return typeof part === 'object' && part !== null && !(part instanceof Uint8Array) && 'sql' in part;
}
