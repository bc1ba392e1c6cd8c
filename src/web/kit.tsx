import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { Type } from '@sinclair/typebox';
import { AppError } from '../platform/errors.js';
import type { Principal } from '../platform/principal.js';
import { localPath, readForm, type FieldRule, type FormErrors, type FormValues } from './forms.js';
import type { WebSessions } from './session.js';
import { accountHtml, ACCOUNT_PLACE, type View } from './view.js';
import { escape } from './pages/tree-html.js';

export const Cursor = Type.Optional(Type.String({ maxLength: 400 }));
/** The page's script asks for an answer (a vote's counts, a form's next address) instead of a page. */
export const wantsJson = (request: FastifyRequest) => (request.headers.accept ?? '').startsWith('application/json');
export const Id = Type.String({ pattern: '^[0-9A-Za-z]{1,40}$' });
export const IdParam = { params: Type.Object({ id: Id }) };
/** A list page's link to its next page (null: none). */
export const nextPage = (path: string, cursor: string | null) =>
  cursor ? `${path}?cursor=${encodeURIComponent(cursor)}` : null;

/** A page as the bytes sent (encoded once: a string reply would be measured, then encoded again). */
export const pageBytes = (page: VNode) => Buffer.from(`<!doctype html>${renderToString(page)}`);

/** The path of the page a form was sent from (its Referer), when that page is this site's. */
export function sameSitePath(request: FastifyRequest): string | null {
  const referer = request.headers.referer;
  if (!referer) return null;
  try {
    const from = new URL(referer);
    return from.host === request.headers.host ? `${from.pathname}${from.search}` : null;
  } catch {
    return null;
  }
}

/** Where a frame holds bytes made elsewhere (`sendFrame`'s `inner`): an HTML comment no user text can hold. */
export const HOLE = `<!--${randomUUID()}-->`;

/**
 * A page made once for many signed-in readers, as bytes cut where they differ: each form's
 * token, the header's account links, and `HOLE`. Whatever else differs between its readers
 * (their vote on the post, say) is the caller's to keep frames apart by.
 */
export interface Frame {
  /** The page between the places: `parts[i]`, then `places[i]`, then `parts[i + 1]`. */
  parts: Buffer[];
  places: ('token' | 'account' | 'inner')[];
  bytes: number;
}
/** The form token's place: inside attribute values, so letters and digits only, which no escaping changes. */
const TOKEN_PLACE = `t${randomUUID().replaceAll('-', '')}`;
const PLACES = new RegExp(`(${TOKEN_PLACE}|${ACCOUNT_PLACE}|${HOLE})`);
const PLACE_KIND = { [TOKEN_PLACE]: 'token', [ACCOUNT_PLACE]: 'account', [HOLE]: 'inner' } as const;

/** The frame of the page `make` renders for `view`'s reader (their token and account links left as places). */
export function makeFrame(view: View, make: (view: View) => VNode): Frame {
  const framing: View = {
    me: view.me,
    unread: null,
    path: view.path,
    assets: view.assets,
    csrf: TOKEN_PLACE,
    frame: true,
  };
  const split = `<!doctype html>${renderToString(make(framing))}`.split(PLACES);
  const frame: Frame = { parts: [], places: [], bytes: 0 };
  split.forEach((piece, i) => {
    if (i % 2 === 1) return void frame.places.push(PLACE_KIND[piece as keyof typeof PLACE_KIND]!);
    const part = Buffer.from(piece);
    frame.parts.push(part);
    frame.bytes += part.length + 16;
  });
  return frame;
}

/** What every page route uses: its view, sending a page, redirects, the sign-in rule, forms. */
export function createKit(sessions: WebSessions, assets: View['assets']) {
  // The form token is made when a page has a form: a page without one sets no cookie, so a
  // signed-out reader's page is the same for everyone.
  const unread = new WeakMap<FastifyRequest, number>();
  // A class, so the token's getter is on the prototype: an object literal with a getter costs
  // V8 a hidden class of its own per page (kept in the old generation until a full collection).
  class RequestView implements View {
    readonly me: Principal | null;
    readonly unread: number | null;
    readonly path: string;
    readonly assets = assets;
    #csrf: string | undefined;
    constructor(
      private readonly request: FastifyRequest,
      private readonly reply: FastifyReply,
    ) {
      this.me = request.principal;
      this.unread = unread.get(request) ?? null;
      this.path = request.url;
    }
    get csrf(): string {
      return (this.#csrf ??= sessions.formToken(this.request, this.reply));
    }
  }
  const view = (request: FastifyRequest, reply: FastifyReply): View => new RequestView(request, reply);
  /** The reply as a page for this reader alone. */
  const asPage = (reply: FastifyReply, status: number) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store');
  /** A page. */
  const send = (reply: FastifyReply, status: number, page: VNode) => asPage(reply, status).send(pageBytes(page));
  /** A frame filled in for the reader of `view`, with `inner` in its `HOLE`, sent in pieces. */
  const sendFrame = (reply: FastifyReply, status: number, frame: Frame, view: View, inner: Buffer[]) => {
    const token = Buffer.from(escape(view.csrf));
    const out: Buffer[] = [];
    frame.parts.forEach((part, i) => {
      out.push(part);
      const place = frame.places[i];
      if (place === 'token') out.push(token);
      else if (place === 'account') out.push(Buffer.from(accountHtml(view)));
      else if (place === 'inner') out.push(...inner);
    });
    return asPage(reply, status).sendParts(out);
  };
  const back = (reply: FastifyReply, to: string) => reply.redirect(to, 303);
  /** A page or form that needs an account: the sign-in page, coming back here after. */
  const signedIn = (request: FastifyRequest, reply: FastifyReply) => {
    if (request.principal) return request.principal;
    const next = request.method === 'GET' ? request.url : localPath((request.body as { back?: unknown })?.back, '/');
    void back(reply, `/signin?next=${encodeURIComponent(next)}`);
    return null;
  };
  /** The form's token, then the account it needs. */
  const csrfOf = (request: FastifyRequest) => (request.body as { _csrf?: unknown } | undefined)?._csrf;
  const postedBy = (request: FastifyRequest, reply: FastifyReply) => {
    sessions.check(request, csrfOf(request));
    return signedIn(request, reply);
  };
  /**
   * A form's POST: its token (and its account, unless `anyone`), its fields against their
   * rules, then `act`, which answers where to go next. A field that breaks its rule, or a
   * refusal the user can act on (shown beside the field its code names in `fields`, else over
   * the form), brings the form back with status 400 and the user's text in it.
   */
  const submitted = async <K extends string>(
    request: FastifyRequest,
    reply: FastifyReply,
    form: {
      rules: Record<K, FieldRule>;
      act: (values: FormValues<K>, me: Principal | null) => Promise<string>;
      again: (values: FormValues<K>, errors: FormErrors<K>) => Promise<FastifyReply> | FastifyReply;
      fields?: Record<string, NoInfer<K>>;
      anyone?: boolean;
    },
  ) => {
    const me = form.anyone ? (sessions.check(request, csrfOf(request)), request.principal) : postedBy(request, reply);
    if (!form.anyone && !me) return reply;
    const read = readForm(request.body, form.rules);
    let errors = read.errors;
    if (read.ok) {
      try {
        const next = await form.act(read.values, me);
        // The page's script sends some forms itself (a reply in place): it gets where to go, and goes.
        return wantsJson(request) ? reply.send({ location: next }) : back(reply, next);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500 || error.code === 'rate_limited') throw error;
        const named = typeof error.details?.field === 'string' ? error.details.field : '_form';
        errors = { [form.fields?.[error.code] ?? named]: error.message } as FormErrors<K>;
      }
    }
    return wantsJson(request) ? reply.code(400).send({ errors }) : form.again(read.values, errors);
  };

  /** The header's inbox count of this request's reader (set before the page is made). */
  const countUnread = (request: FastifyRequest, n: number) => void unread.set(request, n);

  return { view, send, sendFrame, back, signedIn, postedBy, submitted, csrfOf, countUnread };
}

export type Kit = ReturnType<typeof createKit>;
