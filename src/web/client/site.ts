// The pages' one script: every page works without it. With it, votes, replies and load-more
// happen in place, j/k/a/z move and vote (switchable off), times read as "3 hours ago", a
// drop's stock and countdown are live, and an order waiting for its payment shows when it is
// paid. Plain DOM, no framework.

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function showTimes(root: ParentNode): void {
  for (const time of root.querySelectorAll<HTMLTimeElement>('time[datetime]')) {
    const seconds = (Date.parse(time.dateTime) - Date.now()) / 1000;
    const unit = units.find(([, size]) => Math.abs(seconds) >= size);
    time.textContent = unit ? relative.format(Math.round(seconds / unit[1]), unit[0]) : relative.format(0, 'minute');
    time.title = time.dateTime; // the exact time, on hover
  }
}

interface VoteAnswer {
  score: number;
  myVote: number;
}

/**
 * A vote posts in the background: the page's vote form (the reader's token) to the pressed
 * button's address; the buttons and score of its group follow the answer.
 */
async function vote(button: HTMLButtonElement): Promise<void> {
  const form = button.form!;
  const body = new URLSearchParams();
  for (const [key, value] of new FormData(form)) body.append(key, String(value));
  body.set('value', button.value);
  const answer = await fetch(button.formAction, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body,
    credentials: 'same-origin',
  });
  if (!answer.ok) {
    voteWithoutScript(button); // the server's own page says what went wrong
    return;
  }
  const result = (await answer.json()) as VoteAnswer;
  const group = button.closest('.votes')!;
  const score = group.querySelector('.score');
  if (score) {
    score.textContent = String(result.score);
    score.setAttribute('aria-label', `score ${result.score}`);
  }
  group.querySelectorAll<HTMLButtonElement>('button[name="value"]').forEach((b, i) => {
    const direction = i === 0 ? 1 : -1;
    const pressed = result.myVote === direction;
    b.value = pressed ? '0' : String(direction);
    b.setAttribute('aria-pressed', String(pressed));
  });
}

/** The vote as the page sends it without the script: the form posted to the button's address, the page coming back. */
function voteWithoutScript(button: HTMLButtonElement): void {
  const form = button.form!;
  const value = document.createElement('input');
  value.type = 'hidden';
  value.name = 'value';
  value.value = button.value;
  form.action = button.formAction;
  form.append(value);
  form.submit();
}

document.addEventListener('submit', (event) => {
  const form = event.target as HTMLFormElement;
  const submitter = (event as SubmitEvent).submitter;
  if (form.id !== 'vote' || !(submitter instanceof HTMLButtonElement)) return;
  event.preventDefault();
  void vote(submitter).catch(() => voteWithoutScript(submitter));
});

interface DropStatus {
  remaining: number;
  status: 'scheduled' | 'live' | 'sold_out' | 'ended';
  serverTime: number;
  startsAt: number;
}
const STATUS_TEXT: Record<DropStatus['status'], string> = {
  scheduled: 'Not started yet',
  live: 'On sale now',
  sold_out: 'Sold out',
  ended: 'This drop has ended',
};

/**
 * A drop page: the countdown runs on the server's clock (the page's server time against
 * ours when it arrived), and the stock follows the page's event stream — one message per
 * change, pushed by the server. When the stream cannot be kept, the page polls instead.
 */
function liveDrop(section: HTMLElement): void {
  const id = section.dataset.drop ?? '';
  const skew = Number(section.dataset.serverTime) - Date.now();
  const startsAt = Number(section.dataset.startsAt);
  const remaining = section.querySelector('[data-field="remaining"]');
  const statusText = section.querySelector('[data-field="status"]');
  const countdown = section.querySelector<HTMLElement>('[data-countdown]');
  const buy = section.querySelector<HTMLButtonElement>('[data-live-only]');
  const hint = section.querySelector<HTMLElement>('[data-hide-when-live]');

  const tick = () => {
    if (!countdown) return;
    const left = Math.max(0, Math.round((startsAt - (Date.now() + skew)) / 1000));
    const h = Math.floor(left / 3600);
    const m = Math.floor((left % 3600) / 60);
    countdown.textContent = `(in ${h > 0 ? `${h} h ` : ''}${m > 0 || h > 0 ? `${m} min ` : ''}${left % 60} s)`;
  };
  tick();
  const ticking = setInterval(tick, 1000);

  const show = (drop: DropStatus) => {
    if (remaining) remaining.textContent = String(drop.remaining);
    if (statusText) statusText.textContent = STATUS_TEXT[drop.status];
    section.querySelector('.drop-status')?.setAttribute('data-status', drop.status);
    if (drop.status !== 'scheduled') {
      clearInterval(ticking);
      countdown?.remove();
    }
    if (buy) buy.disabled = drop.status !== 'live';
    if (hint) hint.hidden = drop.status === 'live';
  };

  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    for (;;) {
      try {
        const answer = await fetch(`/api/v1/drops/${id}`);
        if (answer.ok) show((await answer.json()) as DropStatus);
      } catch {
        // offline for a moment: the next round tries again
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };

  if (typeof EventSource === 'undefined') {
    void poll();
    return;
  }
  const stream = new EventSource(`/drops/${id}/stream`);
  stream.addEventListener('stock', (event) => show(JSON.parse((event as MessageEvent<string>).data) as DropStatus));
  stream.addEventListener('error', () => {
    // The browser reconnects by itself while it can; a stream it gave up on (refused, or the
    // server gone) leaves the page polling.
    if (stream.readyState === EventSource.CLOSED) void poll();
  });
}

/** An order waiting for its payment: the page follows it, and shows the new state when it changes. */
function watchOrder(section: HTMLElement): void {
  if (section.dataset.orderStatus !== 'pending') return;
  const check = async () => {
    try {
      const answer = await fetch(`/orders/${section.dataset.order ?? ''}`, { headers: { accept: 'application/json' } });
      if (answer.ok && ((await answer.json()) as { status: string }).status !== 'pending') {
        location.reload();
        return;
      }
    } catch {
      // try again next round
    }
    setTimeout(() => void check(), 2000);
  };
  setTimeout(() => void check(), 2000);
}

/** The reader's form token, from a form of the page (a signed-in page has vote forms); null when signed out. */
const formToken = () => document.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? null;

/** A page of this site as a document (to take a part of it). */
async function fetchPage(url: string): Promise<Document> {
  const answer = await fetch(url, { credentials: 'same-origin' });
  if (!answer.ok) throw new Error(`${answer.status}`);
  return new DOMParser().parseFromString(await answer.text(), 'text/html');
}

/** Moves nodes of a fetched page into this one (their times shown like the rest). */
function adopt(nodes: Element[], place: (node: Node) => void): void {
  for (const node of nodes) {
    const mine = document.importNode(node, true);
    showTimes(mine as ParentNode);
    place(mine);
  }
}

/**
 * Load more, in place: the next page of top-level comments, or the rest of a thread (a link
 * inside a comment: its replies), is fetched as the page the link leads to, and its comments
 * take the link's place.
 */
async function loadMore(link: HTMLAnchorElement): Promise<void> {
  const doc = await fetchPage(link.href);
  const parent = commentOf(link);
  const nodes = parent
    ? [...doc.querySelectorAll(`#${CSS.escape(parent.id)} > .comment-body > .replies > *`)]
    : [...doc.querySelectorAll('.tree > *')];
  const holder = link.closest('p.more') ?? link;
  // A thread's replies join its others (a comment shown without any gets their holder first).
  let replies: Element | null = null;
  if (parent) {
    replies = holder.parentElement?.querySelector(':scope > .replies') ?? null;
    if (!replies) {
      replies = document.createElement('div');
      replies.className = 'replies';
      holder.before(replies);
    }
  }
  adopt(nodes, (node) => (replies ? replies.append(node) : holder.before(node)));
  holder.remove();
}

/** The comment a link of the tree is in (null: a top-level load-more link). */
const commentOf = (link: Element) => link.closest<HTMLElement>('details.comment');

/** A reply form opened under a comment, sent in the background; the new reply appears under it. */
function openReply(link: HTMLAnchorElement, token: string): void {
  const comment = commentOf(link);
  const id = comment?.id.slice(2) ?? '';
  const body = comment?.querySelector(':scope > .comment-body');
  if (!comment || !body) return;
  const open = body.querySelector<HTMLTextAreaElement>(':scope > form.reply textarea');
  if (open) {
    open.focus();
    return;
  }
  const form = document.createElement('form');
  form.method = 'post';
  form.action = `/comments/${id}/reply`;
  form.className = 'reply';
  form.innerHTML =
    `<input type="hidden" name="_csrf"><label for="r-${id}">Reply</label>` +
    `<textarea id="r-${id}" name="body" required maxlength="10000" rows="4"></textarea>` +
    `<p class="error" role="alert" hidden></p><div class="row"><button type="submit">Reply</button>` +
    `<button type="button" class="link">Cancel</button></div>`;
  form.querySelector<HTMLInputElement>('input[name="_csrf"]')!.value = token;
  body.querySelector(':scope > .actions')?.after(form);
  const text = form.querySelector('textarea')!;
  const error = form.querySelector<HTMLElement>('.error')!;
  form.querySelector('button[type="button"]')!.addEventListener('click', () => form.remove());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const answer = await fetch(form.action, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: token, body: text.value }),
        credentials: 'same-origin',
      });
      const result = (await answer.json()) as { location?: string; errors?: Record<string, string> };
      if (!answer.ok || !result.location) {
        error.textContent = Object.values(result.errors ?? {})[0] ?? 'The reply could not be sent.';
        error.hidden = false;
        return;
      }
      const [path, hash] = result.location.split('#');
      const doc = await fetchPage(path ?? '/');
      const made = hash ? doc.getElementById(hash) : null;
      if (!made) {
        location.assign(result.location); // not on the page's first part: go to it
        return;
      }
      let replies = body.querySelector(':scope > .replies');
      if (!replies) {
        replies = document.createElement('div');
        replies.className = 'replies';
        form.after(replies);
      }
      const into = replies;
      adopt([made], (node) => into.append(node));
      form.remove();
      document
        .getElementById(hash ?? '')
        ?.querySelector<HTMLElement>(':scope > summary')
        ?.focus();
    })().catch(() => form.submit());
  });
  text.focus();
}

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  // A comment's reply link, or a load-more link.
  const link = (event.target as Element).closest<HTMLAnchorElement>('.actions > a[href$="#reply"], p.more > a');
  if (!link) return;
  const token = formToken();
  if (link.matches('.actions > a')) {
    if (!token) return; // signed out: the link leads to the comment's page and its sign-in link
    event.preventDefault();
    openReply(link, token);
  } else {
    event.preventDefault();
    void loadMore(link).catch(() => location.assign(link.href));
  }
});

/**
 * Keyboard: j and k move between comments, a and z vote on the one in focus (or on the post
 * when none is), Enter on a comment's line folds it (the browser's own). Off while typing,
 * and switched off for good with the button the script adds at the page's foot.
 */
const KEYS_OFF = 'agora.keys';
function keyboard(): void {
  const comments = () => [...document.querySelectorAll<HTMLElement>('details.comment > summary')];
  const current = () => document.activeElement?.closest<HTMLElement>('details.comment') ?? null;
  document.addEventListener('keydown', (event) => {
    if (localStorage.getItem(KEYS_OFF) === '1' || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target as HTMLElement;
    if (target.closest('input, textarea, select, [contenteditable]')) return;
    const all = comments();
    const here = current();
    const at = here ? all.indexOf(here.querySelector(':scope > summary')!) : -1;
    if (event.key === 'j' || event.key === 'k') {
      const next = all[event.key === 'j' ? at + 1 : Math.max(0, at - 1)];
      if (next) {
        event.preventDefault();
        next.focus();
        next.scrollIntoView({ block: 'nearest' });
      }
    } else if (event.key === 'a' || event.key === 'z') {
      const votes = here
        ? here.querySelector(':scope > .comment-body > .actions .votes')
        : document.querySelector('.post .votes');
      const button = votes?.querySelectorAll<HTMLButtonElement>('button[name="value"]')[event.key === 'a' ? 0 : 1];
      if (button) {
        event.preventDefault();
        void vote(button).catch(() => voteWithoutScript(button));
      }
    }
  });
  const foot = document.createElement('p');
  foot.className = 'keys';
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'link';
  const label = () =>
    (toggle.textContent =
      localStorage.getItem(KEYS_OFF) === '1'
        ? 'Keyboard shortcuts are off: turn them on'
        : 'Keyboard shortcuts (j/k: next/previous comment, a/z: vote) are on: turn them off');
  label();
  toggle.addEventListener('click', () => {
    localStorage.setItem(KEYS_OFF, localStorage.getItem(KEYS_OFF) === '1' ? '0' : '1');
    label();
  });
  foot.append(toggle);
  document.querySelector('main')?.append(foot);
}

showTimes(document);
setInterval(() => showTimes(document), 60_000);
if (document.querySelector('details.comment')) keyboard();
for (const section of document.querySelectorAll<HTMLElement>('[data-drop]')) liveDrop(section);
for (const section of document.querySelectorAll<HTMLElement>('[data-order]')) watchOrder(section);
