import { randomUUID } from 'node:crypto';
import type { ComponentChildren } from 'preact';
import type { Principal } from '../platform/principal.js';
import type { FormErrors } from './forms.js';
import { escape, timeParts, VOTE_FORM, voteHtml } from './pages/tree-html.js';

/** What every page knows about its request: who reads it and the token its forms carry. */
export interface View {
  me: Principal | null;
  csrf: string;
  /** The page's own path and query (forms come back to it). */
  path: string;
  /** The signed-in reader's unread inbox items (null: not counted, or signed out). */
  unread: number | null;
  /** The stylesheet's and the script's addresses (with their content hash). */
  assets: { css: string; js: string };
  /** Making a frame (kit.tsx): the account links are left as a place, filled per reader. */
  frame?: boolean;
}

/** Where a frame's account links go (an HTML comment no user text can hold). */
export const ACCOUNT_PLACE = `<!--${randomUUID()}:account-->`;

/** The header's account links, written as text: a frame fills them in for each reader. */
export function accountHtml(view: View): string {
  const me = view.me;
  if (!me)
    return `<a href="${escape(`/signin?next=${encodeURIComponent(view.path)}`)}">Sign in</a><a href="/signup">Sign up</a>`;
  const name = escape(me.username);
  const inbox = view.unread
    ? `<a href="/inbox" aria-label="Inbox, ${view.unread} unread">Inbox (${view.unread})</a>`
    : '<a href="/inbox" aria-label="Inbox">Inbox</a>';
  return (
    `<a href="/u/${name}">${name}</a>${inbox}<a href="/orders">Orders</a>` +
    (me.isAdmin ? '<a href="/admin">Admin</a>' : '') +
    `<form method="post" action="/signout" class="inline"><input type="hidden" name="_csrf" value="${escape(view.csrf)}"/>` +
    '<button type="submit" class="link">Sign out</button></form>'
  );
}

export function Layout(props: { view: View; title: string; children: ComponentChildren }) {
  const { view } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · Agora`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={view.assets.css} />
        <script type="module" src={view.assets.js} />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <nav aria-label="Site">
            <a class="brand" href="/">
              Agora
            </a>
            <a href="/communities">Communities</a>
            <a href="/drops">Drops</a>
            <form class="search" method="get" action="/search" role="search">
              <label for="q" class="visually-hidden">
                Search
              </label>
              <input id="q" name="q" type="search" placeholder="Search" maxLength={200} />
            </form>
          </nav>
          <nav
            aria-label="Account"
            class="account"
            dangerouslySetInnerHTML={{ __html: view.frame ? ACCOUNT_PLACE : accountHtml(view) }}
          />
        </header>
        <main id="main" tabIndex={-1}>
          {props.children}
        </main>
        {view.me && (
          // What every vote button posts (to its own address): the reader's form token.
          <form id={VOTE_FORM} method="post" action="/" hidden>
            <input type="hidden" name="_csrf" value={view.csrf} />
          </form>
        )}
      </body>
    </html>
  );
}

/** A POST form with its CSRF token. */
export function Form(props: { view: View; action: string; class?: string; children: ComponentChildren; id?: string }) {
  return (
    <form method="post" action={props.action} class={props.class} id={props.id}>
      <input type="hidden" name="_csrf" value={props.view.csrf} />
      {props.children}
    </form>
  );
}

/** What a form came back with: the user's text and the message per field. */
export interface FilledForm {
  values?: Partial<Record<string, string>> | undefined;
  errors?: FormErrors<string> | undefined;
}

/** A labelled field with its message beside it; the user's text is kept. */
export function Field(props: {
  form: FilledForm;
  label: string;
  name: string;
  type?: 'text' | 'password' | 'email' | 'url';
  multiline?: boolean;
  required?: boolean;
  maxLength?: number;
  hint?: string;
  autocomplete?: string;
}) {
  const id = `f-${props.name}`;
  const value = props.form.values?.[props.name] ?? '';
  const error = props.form.errors?.[props.name];
  const described = [error ? `${id}-error` : '', props.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: props.name,
    required: props.required,
    maxLength: props.maxLength,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': described,
  };
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={6}>
          {value}
        </textarea>
      ) : (
        <input {...common} type={(props.type ?? 'text') as 'text'} value={value} autoComplete={props.autocomplete} />
      )}
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {error && (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** The message of a form that failed as a whole (not one field). */
export function FormError(props: { errors: FormErrors<string> }) {
  return props.errors._form ? (
    <p class="error form-error" role="alert">
      {props.errors._form}
    </p>
  ) : null;
}

/** A time: exact in the markup (UTC), shown relative by the script. */
export function Time(props: { ms: number }) {
  const { iso, text } = timeParts(props.ms);
  return <time datetime={iso}>{text}</time>;
}

/**
 * Up and down buttons posting a vote (with the layout's vote form); pressing the pressed one
 * takes the vote back. A reader who is not signed in sees the score alone. The markup is
 * `voteHtml`'s, which the comment tree writes too.
 */
export function Votes(props: { view: View; action: string; score: number; myVote: number | undefined; what: string }) {
  const html = voteHtml(props.action, props.score, props.myVote, props.what, props.view.me !== null);
  return <div class="vote-box" dangerouslySetInnerHTML={{ __html: html }} />;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The link to a list's next page, when there is one. */
export function Pager(props: { next: string | null; label: string }) {
  return props.next ? (
    <p class="pager">
      <a href={props.next} rel="next">
        {props.label}
      </a>
    </p>
  ) : null;
}
