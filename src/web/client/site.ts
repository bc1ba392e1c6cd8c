// The pages' one script: every page works without it; with it, votes change in place
// and times read as "3 hours ago". Plain DOM, no framework.

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

showTimes(document);
setInterval(() => showTimes(document), 60_000);
