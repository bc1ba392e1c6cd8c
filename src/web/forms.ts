import type { FastifyInstance } from 'fastify';

/** What one form field must be, and the message shown beside it when it is not. */
export interface FieldRule {
  /** Longest accepted, in characters (the API's limit for the same field). */
  max: number;
  /** Shortest when given; a field with `min` > 0 is required. */
  min?: number;
  pattern?: RegExp;
  /** Leading and trailing blanks dropped (names, titles; never bodies). */
  trim?: boolean;
  message: string;
}

export type FormValues<K extends string> = Record<K, string>;
export type FormErrors<K extends string> = Partial<Record<K | '_form', string>>;

/** Characters neither store can take the same way: refused in every field, as the API refuses them. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const unstorable = (value: string) => value.includes('\u0000') || LONE_SURROGATE.test(value);

/**
 * Reads a posted form against its rules: every field as a string (what the
 * user typed, kept to show again) and a message per field that broke its
 * rule. Fields the form does not name are ignored.
 */
export function readForm<K extends string>(
  body: unknown,
  rules: Record<K, FieldRule>,
): { values: FormValues<K>; errors: FormErrors<K>; ok: boolean } {
  const posted = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const values = {} as FormValues<K>;
  const errors: FormErrors<K> = {};
  for (const name of Object.keys(rules) as K[]) {
    const rule = rules[name];
    const raw = posted[name];
    let value = typeof raw === 'string' ? raw.replace(/\r\n/g, '\n') : '';
    if (rule.trim) value = value.trim();
    values[name] = value.slice(0, rule.max + 1);
    if (unstorable(value)) errors[name] = 'contains characters that cannot be stored';
    else if (value.length > rule.max || value.length < (rule.min ?? 0)) errors[name] = rule.message;
    else if (value !== '' && rule.pattern && !rule.pattern.test(value)) errors[name] = rule.message;
  }
  return { values, errors, ok: Object.keys(errors).length === 0 };
}

/** Parses `application/x-www-form-urlencoded` bodies (a page's forms) in this plugin's routes only. */
export function acceptForms(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit },
    (_request, body, done) => {
      const fields: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(body as string)) if (!(key in fields)) fields[key] = value;
      done(null, fields);
    },
  );
}

/** A path on this site to go back to after a form (never another site: `//host` and `/\host` are refused). */
export function localPath(value: unknown, fallback = '/'): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]{0,500}$/.test(value) ? value : fallback;
}

/** A comment's body, as the comments module takes it. */
export const COMMENT_BODY: Record<'body', FieldRule> = {
  body: { max: 10_000, min: 1, message: 'Write 1 to 10,000 characters' },
};
/** A post's text (optional), as the posts module takes it. */
export const POST_BODY: Record<'body', FieldRule> = {
  body: { max: 40_000, message: 'At most 40,000 characters' },
};
