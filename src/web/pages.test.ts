import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { accessibilityProblems, launchBrowser, screenshots } from '../../test/support/browser.js';
import { assertEventually, startTestApp, type TestApp } from '../../test/support/app.js';
import { describeStores, type StoreKind } from '../../test/support/stores.js';
import { signPayload } from '../modules/drops/index.js';

const WEBHOOK_SECRET = 'web-test-webhook-secret';

/**
 * The pages in a real browser (Debian's Chromium through playwright-core), on
 * both stores, with the script on and with it off: every flow must work
 * without it. axe-core checks each page the flows reach.
 */
describeStores('web pages in a browser', (kind: StoreKind) => {
  let app: TestApp;
  let browser: Browser;
  before(async () => {
    [app, browser] = await Promise.all([
      startTestApp(kind, { AGORA_PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET }),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  const checked = new Set<string>();
  /** axe-core on each kind of page, once per mode. */
  async function accessible(page: Page, label: string, script: boolean) {
    const key = `${label} (script ${script ? 'on' : 'off'})`;
    if (checked.has(key)) return;
    checked.add(key);
    assert.deepEqual(await accessibilityProblems(page, script ? undefined : browser), [], `accessibility of ${key}`);
  }

  for (const script of [true, false]) {
    const mode = script ? 'script on' : 'script off';
    test(`sign up, community, post, replies two deep, vote, collapse, load more, search, sign out (${mode})`, async () => {
      const context: BrowserContext = await browser.newContext({ javaScriptEnabled: script, baseURL: app.base });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const suffix = `${script ? 'on' : 'off'}${kind[0]}`;
      const user = `alice_${suffix}`;
      try {
        // Sign up: a bad password comes back beside its field with the username kept.
        await page.goto('/signup');
        await accessible(page, 'sign-up', script);
        await page.getByLabel('Username').fill(user);
        await page.getByLabel('Password').fill('short');
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.waitForURL('**/signup');
        assert.equal(await page.getByLabel('Username').inputValue(), user);
        assert.match((await page.locator('#f-password-error').textContent()) ?? '', /8 to 128/);
        await accessible(page, 'sign-up with errors', script);
        await page.getByLabel('Password').fill('a good long password');
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.waitForURL('**/communities');
        assert.equal(
          await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: user }).count(),
          1,
        );
        await accessible(page, 'communities', script);

        // A community.
        const name = `garden_${suffix}`;
        await page.getByRole('link', { name: 'Create a community' }).click();
        await accessible(page, 'new community', script);
        await page.getByLabel('Name').fill(name);
        await page.getByLabel('Title').fill('Gardening');
        await page.getByLabel('Description (Markdown)').fill('Grow **things**. <script>alert(1)</script>');
        await page.getByRole('button', { name: 'Create' }).click();
        await page.waitForURL(`**/c/${name}`);
        assert.equal(await page.locator('.side .md strong').textContent(), 'things');
        assert.match(
          (await page.locator('.side .md').textContent()) ?? '',
          /<script>alert\(1\)<\/script>/,
          'raw HTML shown as text',
        );
        await accessible(page, 'community', script);

        // A post.
        await page.getByRole('link', { name: 'Submit a post' }).click();
        await accessible(page, 'submit', script);
        const title = `Tomatoes in December ${suffix}`;
        await page.getByLabel('Title').fill(title);
        await page.getByLabel('Text (optional, Markdown)').fill('See [the guide](https://example.org/guide).');
        await page.getByRole('button', { name: 'Post' }).click();
        await page.waitForURL('**/p/*');
        const postPath = new URL(page.url()).pathname;
        assert.equal(await page.locator('.post .md a').getAttribute('rel'), 'nofollow ugc noopener');
        await accessible(page, 'post', script);

        // A comment, a reply to it, and a reply to that: two levels deep.
        await page.getByLabel('Your comment').fill('First comment');
        await page.getByRole('button', { name: 'Reply' }).click();
        await page.waitForURL(`**${postPath}#c-*`);
        const firstComment = page.url().split('#c-')[1]!;
        let parent = firstComment;
        // With the script the reply form opens under the comment and the reply appears there,
        // without leaving the page; without it, the comment's page has the form.
        for (const [i, text] of ['A reply', 'A reply to the reply'].entries()) {
          const replies = page.locator(`#c-${parent} > .comment-body > .replies > details.comment`);
          const before = await replies.count();
          await page.locator(`#c-${parent} > .comment-body > .actions a[href$="#reply"]`).click();
          let id: string;
          if (script) {
            await page.locator(`#r-${parent}`).fill(text);
            await page
              .locator(`#c-${parent} > .comment-body > form.reply`)
              .getByRole('button', { name: 'Reply' })
              .click();
            await assertEventually(async () => (await replies.count()) === before + 1, 'the reply appears in place');
            assert.equal(new URL(page.url()).pathname, postPath, 'still on the post page');
            id = (await replies.last().getAttribute('id'))!.slice(2);
          } else {
            await accessible(page, 'comment page', script);
            await page.getByLabel(/^Reply to/).fill(text);
            await page.getByRole('button', { name: 'Reply' }).click();
            await page.waitForURL(`**${postPath}#c-*`);
            id = page.url().split('#c-')[1]!;
          }
          assert.equal(
            await page.locator(`#c-${parent} > .comment-body > .replies > #c-${id} .md`).first().textContent(),
            `${text}\n`,
            `reply ${i + 1} sits under its parent`,
          );
          parent = id;
        }
        if (script) {
          await page.goto(`/comments/${firstComment}`);
          await accessible(page, 'comment page', script);
          await page.goto(postPath);
        }

        // Votes on the post (its author's upvote is there from the start): pressing it takes it
        // back, pressing again gives it. With the script the page stays; without, it comes back.
        const score = page.locator('.post .score');
        const upvote = page.locator('.post').getByRole('button', { name: 'Upvote this post' });
        assert.equal(await score.textContent(), '1');
        assert.equal(await upvote.getAttribute('aria-pressed'), 'true');
        if (script) await page.evaluate(() => ((globalThis as { marker?: number }).marker = 1));
        await upvote.click();
        await assertEventually(async () => (await score.textContent()) === '0', 'the vote is taken back');
        assert.equal(await upvote.getAttribute('aria-pressed'), 'false');
        await upvote.click();
        await assertEventually(async () => (await score.textContent()) === '1', 'the vote is given again');
        assert.equal(await upvote.getAttribute('aria-pressed'), 'true');
        if (script) assert.equal(await page.evaluate(() => (globalThis as { marker?: number }).marker), 1, 'no reload');

        // Collapse the thread: the replies are hidden, the comment's line stays.
        const top = page.locator('.tree > details.comment').first();
        const deepest = page.getByText('A reply to the reply');
        assert.equal(await deepest.isVisible(), true);
        await top.locator('> summary').click();
        assert.equal(await deepest.isVisible(), false);
        assert.equal(await top.locator('> summary').isVisible(), true);
        await top.locator('> summary').click();

        // Load more: past the first page of top-level comments.
        const { token } = (
          await app.request('POST', '/api/v1/sessions', { body: { username: user, password: 'a good long password' } })
        ).body as { token: string };
        const postId = postPath.split('/').pop()!;
        for (let i = 0; i < 200; i++)
          assert.equal(
            (await app.request('POST', `/api/v1/posts/${postId}/comments`, { token, body: { body: `filler ${i}` } }))
              .status,
            201,
          );
        await page.goto(postPath);
        await screenshots(page, `post-${suffix}`);
        const more = page.getByRole('link', { name: /Load more comments/ });
        assert.equal(await more.count(), 1);
        const shown = await page.locator('.tree > details.comment').count();
        await more.click();
        if (script) {
          // In place: the next comments join the page where the link was.
          await assertEventually(
            async () => (await page.locator('.tree > details.comment').count()) > shown,
            'more comments appear in place',
          );
          assert.equal(new URL(page.url()).pathname, postPath);
          assert.equal(
            (await page.getByText('filler 0', { exact: true }).count()) +
              (await page.getByText('filler 199', { exact: true }).count()),
            2,
            'the first and the last filler are both on the page',
          );
        } else {
          await page.waitForURL('**cursor=*');
          assert.ok((await page.locator('.tree > details.comment').count()) > 0, 'the next page has comments');
        }

        // Continue this thread: a chain of replies deeper than a page shows goes on at its
        // comment's page (with the script, in place).
        const deepPost = (
          await app.request('POST', `/api/v1/communities/${name}/posts`, { token, body: { title: `Deep ${suffix}` } })
        ).body.id as string;
        const chain: string[] = [];
        for (let depth = 0; depth <= 10; depth++) {
          const body = { body: `level ${depth}`, ...(depth > 0 ? { parentId: chain[depth - 1] } : {}) };
          chain.push((await app.request('POST', `/api/v1/posts/${deepPost}/comments`, { token, body })).body.id);
        }
        await page.goto(`/p/${deepPost}`);
        const deepest10 = page.getByText('level 10', { exact: true });
        assert.equal(await deepest10.count(), 0, 'past the depth a page shows');
        await page.getByRole('link', { name: /Continue this thread/ }).click();
        if (script) {
          await assertEventually(
            async () => (await deepest10.count()) === 1,
            'the rest of the thread appears in place',
          );
          assert.equal(new URL(page.url()).pathname, `/p/${deepPost}`);
          assert.equal(await page.locator(`#c-${chain[9]} > .comment-body > .replies > #c-${chain[10]}`).count(), 1);
        } else {
          await page.waitForURL(`**/comments/${chain[9]}`);
          assert.equal(await deepest10.count(), 1, "the comment's page shows its reply");
        }

        if (script) {
          // The keyboard: j moves to the next comment, a upvotes it; switched off, j does nothing.
          await page.goto(postPath);
          await page.keyboard.press('j');
          const focused = page.locator('details.comment > summary:focus');
          assert.equal(await focused.count(), 1, 'j focuses the first comment');
          const first = page.locator('.tree > details.comment').first();
          const firstScore = first.locator(':scope > .comment-body > .actions .score');
          const was = Number(await firstScore.textContent());
          await page.keyboard.press('a');
          await assertEventually(
            async () => Number(await firstScore.textContent()) !== was,
            'a votes on the comment in focus',
          );
          await page.getByRole('button', { name: /Keyboard shortcuts .* turn them off/ }).click();
          await page.keyboard.press('j');
          assert.equal(await focused.count(), 0, 'off: j moves nothing (the focus stays on the switch)');
          await page.getByRole('button', { name: /turn them on/ }).click();
        }

        // The author edits a comment of theirs, then deletes it.
        await page.goto(`/comments/${parent}`);
        await page.getByRole('link', { name: 'Edit your comment' }).click();
        await accessible(page, 'edit', script);
        const field = page.getByLabel('Your comment (Markdown)');
        assert.equal(await field.inputValue(), 'A reply to the reply', 'the current text in the field');
        await field.fill('An *edited* reply');
        await page.getByRole('button', { name: 'Save' }).click();
        await page.waitForURL(`**/comments/${parent}`);
        assert.equal(await page.locator(`#c-${parent} > .comment-body > .md em`).textContent(), 'edited');
        assert.match((await page.locator(`#c-${parent} > summary`).textContent()) ?? '', /edited/);
        await page.getByRole('link', { name: 'Delete it' }).click();
        await accessible(page, 'delete', script);
        await page.getByRole('button', { name: 'Delete' }).click();
        await page.waitForURL(`**${postPath}`);
        assert.equal(await page.locator('.md', { hasText: 'edited' }).count(), 0, 'gone from the thread');
        assert.equal((await page.goto(`/comments/${parent}/edit`))?.status(), 404, 'a deleted comment');

        // Search finds the post.
        await page.goto('/');
        await page.getByRole('searchbox', { name: 'Search' }).fill(`tomatoes ${suffix}`);
        await page.getByRole('searchbox', { name: 'Search' }).press('Enter');
        await page.waitForURL('**/search?q=tomatoes*');
        assert.equal(await page.getByRole('link', { name: title }).count(), 1);
        await accessible(page, 'search', script);

        // Profile, front page, then sign out.
        await page.goto(`/u/${user}`);
        assert.equal(await page.getByRole('link', { name: title }).count(), 1);
        await accessible(page, 'profile', script);
        await page.goto(`/u/${user}?tab=comments`);
        assert.match((await page.locator('.comment-list').textContent()) ?? '', /filler 199/, 'newest first');
        await accessible(page, 'profile comments', script);
        await page.goto('/');
        await accessible(page, 'front page signed in', script);
        await screenshots(page, `front-${suffix}`);
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.waitForURL((url) => url.pathname === '/');
        assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 1);
        await accessible(page, 'front page signed out', script);

        // Another reader reports the post.
        const reader = `bob_${suffix}`;
        await signUp(page, reader);
        await page.goto(postPath);
        await page.getByRole('link', { name: 'Report this post' }).click();
        await accessible(page, 'report', script);
        await page.getByLabel('What is wrong with it?').fill('Spam about tomatoes');
        await page.getByRole('button', { name: 'Send the report' }).click();
        await page.waitForURL('**reported=1');
        assert.match((await page.getByRole('status').textContent()) ?? '', /moderators will see your report/);
        assert.equal(await page.getByRole('button', { name: 'Remove this post' }).count(), 0, 'no tools for readers');
        assert.equal(await page.getByRole('link', { name: 'Edit your post' }).count(), 0);
        assert.equal((await page.goto(`${postPath}/edit`))?.status(), 403, "another's post cannot be edited");
        // ... and replies to the first comment, which reaches its author's inbox.
        await page.goto(`/comments/${firstComment}`);
        await page.getByLabel(/^Reply to/).fill(`Nice one, u/${user}`);
        await page.getByRole('button', { name: 'Reply' }).click();
        await page.waitForURL(`**${postPath}#c-*`);
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.waitForURL((url) => url.pathname === '/');

        // The moderator sees it in the queue, removes the post with a reason, and the modlog shows it.
        await page.goto(`/signin?next=${encodeURIComponent(`/c/${name}/reports`)}`);
        await accessible(page, 'sign-in', script);
        await page.getByLabel('Username').fill(user);
        await page.getByLabel('Password').fill('a good long password');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`**/c/${name}/reports`);
        assert.match((await page.locator('.comment-list li').first().textContent()) ?? '', /Spam about tomatoes/);
        await accessible(page, 'reports queue', script);

        // The reply waits in the inbox, counted in the header (delivered through the outbox).
        const inboxLink = page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: /^Inbox/ });
        await assertEventually(async () => {
          await page.reload();
          return (await inboxLink.getAttribute('aria-label')) === 'Inbox, 1 unread'; // a reply that mentions its parent's author is one item
        }, 'the inbox counts the reply');
        await inboxLink.click();
        assert.match((await page.locator('.inbox li').first().textContent()) ?? '', new RegExp(`Nice one, u/${user}`));
        await accessible(page, 'inbox', script);
        await page.getByRole('button', { name: 'Mark all read' }).click();
        await page.waitForURL('**/inbox');
        assert.equal(await inboxLink.getAttribute('aria-label'), 'Inbox');
        await page.goto(`/c/${name}/reports`);
        await page.getByRole('link', { name: 'the post' }).click();
        await page.getByLabel('Reason for removal').fill('Off topic');
        await page.getByRole('button', { name: 'Remove this post' }).click();
        await page.waitForURL(`**${postPath}`);
        assert.match((await page.locator('.post .notice').textContent()) ?? '', /Removed by a moderator: Off topic/);
        assert.equal(await page.getByRole('button', { name: 'Restore this post' }).count(), 1);
        await page.goto(`/c/${name}/modlog`);
        assert.match(
          (await page.locator('.modlog li').first().textContent()) ?? '',
          new RegExp(`${user} removed a post \\(post\\): Off topic`),
        );
        await accessible(page, 'modlog', script);
        await page.goto(`/c/${name}/bans`);
        await accessible(page, 'bans', script);
        await page.goto(`/c/${name}`);
        await screenshots(page, `community-${suffix}`);
        await page.goto('/p/01NOSUCHPOST00000000000000');
        assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Not found');
        await accessible(page, 'error page', script);
        await page.goto(`/c/${name}`);
        assert.equal(await page.getByRole('link', { name: title }).count(), 0, 'a removed post leaves the listing');
        assert.deepEqual(errors, [], 'no script errors');
      } finally {
        await context.close();
      }
    });
  }

  for (const script of [true, false]) {
    const mode = script ? 'script on' : 'script off';
    test(`a drop from countdown to live to sold out in two browsers; buy, webhook, paid (${mode})`, async () => {
      const suffix = `${script ? 'on' : 'off'}${kind[0]}`;
      // A moderator makes the drop over the API (two units, one per customer, starting 3 s after the buyers
      // have signed up).
      const seller = `seller_${suffix}`;
      assert.equal(
        (
          await app.request('POST', '/api/v1/accounts', {
            body: { username: seller, password: 'a good long password' },
          })
        ).status,
        201,
      );
      const { token } = (
        await app.request('POST', '/api/v1/sessions', { body: { username: seller, password: 'a good long password' } })
      ).body as { token: string };
      const community = `shop_${suffix}`;
      assert.equal(
        (await app.request('POST', '/api/v1/communities', { token, body: { name: community, title: 'Shop' } })).status,
        201,
      );
      const contexts = await Promise.all(
        [0, 1].map(() => browser.newContext({ javaScriptEnabled: script, baseURL: app.base })),
      );
      try {
        const [a, b] = await Promise.all(contexts.map((c) => c.newPage()));
        const errors: string[] = [];
        for (const p of [a!, b!]) p.on('pageerror', (e) => errors.push(String(e)));
        await signUp(a!, `ann_${suffix}`);
        await signUp(b!, `ben_${suffix}`);
        const startsAt = Date.now() + 3000;
        const created = await app.request('POST', '/api/v1/drops', {
          token,
          body: {
            communityName: community,
            name: `Seeds ${suffix}`,
            stock: 2,
            priceCents: 500,
            currency: 'EUR',
            startsAt,
            perCustomerLimit: 1,
          },
        });
        assert.equal(created.status, 201);
        const dropPath = `/drops/${(created.body as { id: string }).id}`;
        for (const p of [a!, b!]) await p.goto(dropPath);
        const status = (p: Page) => p.locator('[data-field="status"]').textContent();
        const remaining = async (p: Page) => Number(await p.locator('[data-field="remaining"]').textContent());
        assert.equal(await status(a!), 'Not started yet');
        assert.equal(await a!.getByRole('button', { name: 'Buy' }).isDisabled(), true);
        if (script) assert.match((await a!.locator('.countdown').textContent()) ?? '', /^\(in \d+ s\)$/);
        await accessible(a!, 'drop scheduled', script);

        // It goes live: with the script the page sees it by itself; without, a reload shows it.
        if (script)
          await assertEventually(async () => (await status(a!)) === 'On sale now', 'the drop goes live', 8000);
        else {
          await new Promise((r) => setTimeout(r, Math.max(0, startsAt - Date.now() + 100)));
          await a!.reload();
          await b!.reload();
          assert.equal(await status(a!), 'On sale now');
        }
        await accessible(a!, 'drop live', script);
        if (script) await b!.evaluate(() => ((globalThis as { marker?: number }).marker = 1));

        // Ann buys; Ben's page shows the stock fall without a reload (script on).
        await a!.getByRole('button', { name: 'Buy' }).click();
        await a!.waitForURL('**/orders/*');
        assert.match((await a!.getByRole('status').textContent()) ?? '', /waiting for payment/);
        await accessible(a!, 'order pending', script);
        const orderId = new URL(a!.url()).pathname.split('/').pop()!;
        if (script) {
          await assertEventually(async () => (await remaining(b!)) === 1, "the other page's stock falls to 1");
          assert.equal(await b!.evaluate(() => (globalThis as { marker?: number }).marker), 1, 'without a reload');
        } else {
          await b!.reload();
          assert.equal(await remaining(b!), 1);
        }

        // Ben buys the last one: sold out.
        await b!.getByRole('button', { name: 'Buy' }).click();
        await b!.waitForURL('**/orders/*');
        await a!.goto(dropPath);
        assert.equal(await status(a!), 'Sold out');
        assert.equal(await remaining(a!), 0);
        assert.match(
          (await a!.locator('section[aria-label="Your orders of this drop"]').textContent()) ?? '',
          /waiting for payment/,
        );
        await screenshots(a!, `drop-${suffix}`);

        // The provider's webhook pays Ann's order; her order page shows it (by itself with the script).
        await a!.goto(`/orders/${orderId}`);
        const body = JSON.stringify({
          id: `evt_${suffix}`,
          type: 'payment.succeeded',
          data: { orderId, amountCents: 500 },
        });
        const t = Math.floor(Date.now() / 1000);
        const paid = await app.request('POST', '/api/v1/payments/webhook', {
          raw: body,
          headers: {
            'content-type': 'application/json',
            'agora-signature': `t=${t},v1=${signPayload(WEBHOOK_SECRET, t, body)}`,
          },
        });
        assert.equal((paid.body as { outcome: string }).outcome, 'paid');
        if (!script) await a!.reload();
        await assertEventually(
          async () => /paid/.test((await a!.getByRole('status').textContent()) ?? ''),
          'the order shows paid',
          8000,
        );
        assert.equal(await a!.getByRole('link', { name: /^Pay / }).count(), 0);
        await accessible(a!, 'order paid', script);
        await a!.goto('/orders');
        assert.match((await a!.locator('.comment-list li').first().textContent()) ?? '', /paid/);
        await accessible(a!, 'orders', script);
        await a!.goto(`/pay/${orderId}`);
        await accessible(a!, 'pay', script);
        await a!.goto('/drops');
        await accessible(a!, 'drops', script);
        assert.deepEqual(errors, [], 'no script errors');
      } finally {
        await Promise.all(contexts.map((c) => c.close()));
      }
    });
  }

  test("the site admin's page shows the live migration's state; others get a 403 page", async () => {
    await app.agora.accounts.createAdmin({ username: `admin_${kind}`, password: 'a good long password' });
    const context = await browser.newContext({ baseURL: app.base });
    try {
      const page = await context.newPage();
      await page.goto('/signin?next=/admin');
      await page.getByLabel('Username').fill(`admin_${kind}`);
      await page.getByLabel('Password').fill('a good long password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/admin');
      assert.equal(await page.getByRole('status').textContent(), 'No migration');
      await accessible(page, 'admin', true);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/');
      await signUp(page, `notadmin_${kind}`);
      const answer = await page.goto('/admin');
      assert.equal(answer?.status(), 403);
      assert.match((await page.getByRole('alert').textContent()) ?? '', /site admins/);
    } finally {
      await context.close();
    }
  });

  test('a form without its token is refused with a page, not a 500', async () => {
    const answer = await fetch(`${app.base}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=mallory&password=whatever-long',
    });
    assert.equal(answer.status, 403);
    assert.match(answer.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await answer.text(), /reload the page/);
  });
});

async function signUp(page: Page, username: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('a good long password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/communities');
}
