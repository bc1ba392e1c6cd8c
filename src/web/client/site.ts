// The pages' one script: every page works without it; with it, votes change in place,
// times read as "3 hours ago", a drop's stock and countdown are live, and an order waiting
// for its payment shows when it is paid. Plain DOM, no framework.

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
  }
}

interface VoteAnswer {
  score: number;
  myVote: number;
}

/** A vote form posts in the background; its buttons and score follow the answer. */
async function vote(form: HTMLFormElement, button: HTMLButtonElement): Promise<void> {
  const body = new URLSearchParams();
  for (const [key, value] of new FormData(form)) body.append(key, String(value));
  body.set('value', button.value);
  const answer = await fetch(form.action, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body,
    credentials: 'same-origin',
  });
  if (!answer.ok) {
    form.submit(); // the server's own page says what went wrong
    return;
  }
  const result = (await answer.json()) as VoteAnswer;
  const score = form.querySelector('.score');
  if (score) {
    score.textContent = String(result.score);
    score.setAttribute('aria-label', `score ${result.score}`);
  }
  for (const b of form.querySelectorAll<HTMLButtonElement>('button.vote')) {
    const direction = b === form.querySelectorAll('button.vote')[0] ? 1 : -1;
    const pressed = result.myVote === direction;
    b.value = pressed ? '0' : String(direction);
    b.setAttribute('aria-pressed', String(pressed));
    b.classList.toggle('on', pressed);
  }
}

document.addEventListener('submit', (event) => {
  const form = event.target as HTMLFormElement;
  const submitter = (event as SubmitEvent).submitter;
  if (!form.classList.contains('votes') || !(submitter instanceof HTMLButtonElement)) return;
  event.preventDefault();
  void vote(form, submitter).catch(() => form.submit());
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

showTimes(document);
setInterval(() => showTimes(document), 60_000);
for (const section of document.querySelectorAll<HTMLElement>('[data-drop]')) liveDrop(section);
for (const section of document.querySelectorAll<HTMLElement>('[data-order]')) watchOrder(section);
