import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertEventually, startTestApp, type TestApp } from '../../test/support/app.js';
import { describeStores, type StoreKind } from '../../test/support/stores.js';

describeStores('what pages share is never stale', (kind: StoreKind) => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let postId: string;
  before(async () => {
    app = await startTestApp(kind);
    for (const name of ['alice', 'bob'])
      await app.request('POST', '/api/v1/accounts', { body: { username: name, password: 'a good long password' } });
    const signIn = async (username: string) =>
      (await app.request('POST', '/api/v1/sessions', { body: { username, password: 'a good long password' } })).body
        .token as string;
    [alice, bob] = await Promise.all([signIn('alice'), signIn('bob')]);
    await app.request('POST', '/api/v1/communities', { token: alice, body: { name: 'garden', title: 'Garden' } });
    postId = (
      await app.request('POST', '/api/v1/communities/garden/posts', { token: alice, body: { title: 'Tomatoes' } })
    ).body.id;
  });
  after(() => app?.close());

  const page = async () => {
    const answer = await fetch(`${app.base}/p/${postId}`);
    return { answer, html: await answer.text() };
  };

  test('the same page for every anonymous reader, with no cookie; a new comment and a vote show at once', async () => {
    const first = await page();
    assert.equal(first.answer.status, 200);
    assert.equal(first.answer.headers.get('set-cookie'), null, 'an anonymous page sets no cookie');
    assert.equal(first.answer.headers.get('cache-control'), 'public, max-age=5');
    assert.equal(first.answer.headers.get('vary'), 'cookie');
    assert.equal((await page()).html, first.html);

    const comment = await app.request('POST', `/api/v1/posts/${postId}/comments`, {
      token: bob,
      body: { body: 'First!' },
    });
    assert.equal(comment.status, 201);
    const afterComment = await page();
    assert.match(afterComment.html, new RegExp(`id="c-${comment.body.id}"`), 'the new comment is on the next read');
    assert.match(afterComment.html, /First!/);

    assert.equal(
      (await app.request('PUT', `/api/v1/posts/${postId}/vote`, { token: bob, body: { value: 1 } })).status,
      200,
    );
    assert.match((await page()).html, /aria-label="score 2"/, 'the vote is on the next read');

    assert.equal(
      (await app.request('PUT', `/api/v1/comments/${comment.body.id}/vote`, { token: alice, body: { value: 1 } }))
        .status,
      200,
    );
    assert.match((await page()).html, /2 points/, "the comment's vote is on the next read");
  });

  test("a community's and the front page's listings are kept for signed-out readers until a new post", async () => {
    for (let i = 0; i < 26; i++)
      assert.equal(
        (await app.request('POST', '/api/v1/communities/garden/posts', { token: alice, body: { title: `Post ${i}` } }))
          .status,
        201,
      );
    const keptBytes = async () =>
      Number(/agora_memory_copies_bytes\{owner="pages"\} (\d+)/.exec(await app.metrics())?.[1] ?? 0);
    const before = await keptBytes();
    for (const path of ['/c/garden?sort=new', '/?sort=new']) {
      const first = await fetch(app.base + path);
      const html = await first.text();
      assert.equal(first.headers.get('cache-control'), 'public, max-age=5', path);
      assert.equal(await (await fetch(app.base + path)).text(), html, path);
      assert.match(html, /Post 25/);
    }
    assert.ok((await keptBytes()) > before, 'the two listing pages are kept');
    await app.request('POST', '/api/v1/communities/garden/posts', { token: bob, body: { title: 'Fresh post' } });
    for (const path of ['/c/garden?sort=new', '/?sort=new'])
      assert.match(
        await (await fetch(app.base + path)).text(),
        /Fresh post/,
        `${path}: the new post is on the next read`,
      );
  });

  test('a signed-in reader never gets the shared page', async () => {
    const { token } = (
      await app.request('POST', '/api/v1/sessions', { body: { username: 'bob', password: 'a good long password' } })
    ).body;
    const answer = await fetch(`${app.base}/p/${postId}`, { headers: { cookie: `agora_session=${token}` } });
    const html = await answer.text();
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.match(html, /Sign out/);
    assert.match(html, /name="_csrf"/);
    // Sent in pieces: the length it says is the page's, and a HEAD gets the headers alone.
    assert.equal(Number(answer.headers.get('content-length')), Buffer.byteLength(html));
    const cookie = `agora_session=${token}; ${answer.headers.get('set-cookie')?.split(';')[0]}`;
    const head = await fetch(`${app.base}/p/${postId}`, { method: 'HEAD', headers: { cookie } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(html));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  test("moderation tools show to the community's moderators, and go when one is removed", async () => {
    const tools = async (token: string) => {
      const answer = await fetch(`${app.base}/p/${postId}`, { headers: { cookie: `agora_session=${token}` } });
      assert.equal(answer.status, 200);
      return (await answer.text()).includes('class="modtools"');
    };
    assert.equal(await tools(alice), true, 'the founder');
    assert.equal(await tools(bob), false);
    const moderators = '/api/v1/communities/garden/moderators';
    assert.equal((await app.request('POST', moderators, { token: alice, body: { username: 'bob' } })).status, 201);
    assert.equal(await tools(bob), true, 'at once after being added');
    assert.equal((await app.request('DELETE', `${moderators}/bob`, { token: alice })).status, 204);
    assert.equal(await tools(bob), false, 'at once after being removed');
  });

  test("signed-in readers' pages share the comments' HTML; each has their own token and votes", async () => {
    const comments: string[] = [];
    for (const body of ['Stake them early', 'Pinch the side shoots'])
      comments.push(
        (await app.request('POST', `/api/v1/posts/${postId}/comments`, { token: alice, body: { body } })).body.id,
      );
    const [first, second] = comments as [string, string];
    const vote = (token: string, id: string, value: number) =>
      app.request('PUT', `/api/v1/comments/${id}/vote`, { token, body: { value } });
    assert.equal((await vote(bob, first, -1)).status, 200);
    const read = async (token: string) => {
      const answer = await fetch(`${app.base}/p/${postId}`, { headers: { cookie: `agora_session=${token}` } });
      assert.equal(answer.status, 200);
      return answer.text();
    };
    /** A comment's vote buttons on a page: which is pressed, and the score between them. */
    const buttons = (html: string, id: string) => {
      const form =
        new RegExp(
          `<span class="votes"><button form="vote" formaction="/comments/${id}/vote"[^]*?</button></span>`,
        ).exec(html)?.[0] ?? '';
      return {
        up: /aria-pressed="(\w+)" aria-label="Upvote/.exec(form)?.[1],
        down: /aria-pressed="(\w+)" aria-label="Downvote/.exec(form)?.[1],
        score: /class="score" aria-label="score (-?\d+)"/.exec(form)?.[1],
      };
    };
    const tokens = (html: string) => new Set([...html.matchAll(/name="_csrf" value="([^"]+)"/g)].map((m) => m[1]));

    // The comments' author upvoted her own; bob voted the first down: each page shows its reader's.
    const [alicePage, bobPage] = [await read(alice), await read(bob)];
    assert.deepEqual(buttons(alicePage, first), { up: 'true', down: 'false', score: '0' });
    assert.deepEqual(buttons(bobPage, first), { up: 'false', down: 'true', score: '0' });
    assert.deepEqual(buttons(bobPage, second), { up: 'false', down: 'false', score: '1' });
    // One form token per page, every form's, and not the other reader's.
    assert.equal(tokens(alicePage).size, 1);
    assert.equal(tokens(bobPage).size, 1);
    assert.notDeepEqual(tokens(alicePage), tokens(bobPage));

    // A vote changes the thread: the next read shows it, for its voter and for the other reader.
    assert.equal((await vote(bob, second, 1)).status, 200);
    assert.deepEqual(buttons(await read(bob), second), { up: 'true', down: 'false', score: '2' });
    assert.deepEqual(buttons(await read(alice), second), { up: 'true', down: 'false', score: '2' });
    assert.deepEqual(buttons(await read(alice), first), { up: 'true', down: 'false', score: '0' });

    // Locking the thread takes the reply links off every reader's page.
    assert.match(await read(bob), new RegExp(`href="/comments/${first}#reply"`));
    assert.equal((await app.request('POST', `/api/v1/posts/${postId}/lock`, { token: alice, body: {} })).status, 200);
    assert.doesNotMatch(await read(bob), /#reply"/);
  });

  test('the page around the comments is kept once per kind of reader; each gets their own header, vote and links', async () => {
    await app.request('POST', '/api/v1/accounts', { body: { username: 'carol', password: 'a good long password' } });
    const carol = (
      await app.request('POST', '/api/v1/sessions', { body: { username: 'carol', password: 'a good long password' } })
    ).body.token as string;
    const post = (
      await app.request('POST', '/api/v1/communities/garden/posts', {
        token: alice,
        body: { title: 'Basil', body: 'Pinch it' },
      })
    ).body.id as string;
    const read = async (token: string) => {
      const answer = await fetch(`${app.base}/p/${post}`, { headers: { cookie: `agora_session=${token}` } });
      assert.equal(answer.status, 200);
      return answer.text();
    };
    const header = (html: string) => /<nav aria-label="Account" class="account">([^]*?)<\/nav>/.exec(html)?.[1] ?? '';
    const postVote = (html: string) =>
      /formaction="\/p\/\w+\/vote" name="value" value="-?\d" aria-pressed="(\w+)" aria-label="Upvote this post"/.exec(
        html,
      )?.[1];
    const keptBytes = async () =>
      Number(/agora_memory_copies_bytes\{owner="pages"\} (\d+)/.exec(await app.metrics())?.[1] ?? 0);

    const bobPage = await read(bob);
    const kept = await keptBytes();
    const carolPage = await read(carol);
    assert.equal(await keptBytes(), kept, 'a second reader who sees the post as the first does adds nothing kept');
    assert.match(header(carolPage), /href="\/u\/carol">carol</);
    assert.doesNotMatch(carolPage, /bob/, "nothing of the first reader's is on the second's page");
    assert.match(header(bobPage), /href="\/u\/bob">bob</);
    for (const html of [bobPage, carolPage]) {
      assert.match(html, /Report this post/);
      assert.doesNotMatch(html, /Edit your post|class="modtools"/);
    }
    const alicePage = await read(alice);
    assert.match(alicePage, /Edit your post/, 'the author gets her own links');
    assert.match(alicePage, /class="modtools"/, "and the community's founder its tools");

    // A vote on the post: pressed on its voter's page only.
    assert.equal(
      (await app.request('PUT', `/api/v1/posts/${post}/vote`, { token: bob, body: { value: 1 } })).status,
      200,
    );
    assert.equal(postVote(await read(bob)), 'true');
    assert.equal(postVote(await read(carol)), 'false');

    // A reply to alice's comment: her header counts it, the others' do not.
    const comment = (
      await app.request('POST', `/api/v1/posts/${post}/comments`, { token: alice, body: { body: 'Water it' } })
    ).body.id as string;
    await app.request('POST', `/api/v1/posts/${post}/comments`, {
      token: carol,
      body: { body: 'In the morning', parentId: comment },
    });
    await assertEventually(
      async () => /Inbox \(1\)/.test(header(await read(alice))),
      "alice's header counts the reply",
    );
    assert.doesNotMatch(header(await read(carol)), /Inbox \(/);
  });

  test("a thread cut at the page's depth continues at its comment's page, in the page's sort, as the API's cursor does", async () => {
    const post = (
      await app.request('POST', '/api/v1/communities/garden/posts', { token: alice, body: { title: 'Deep' } })
    ).body.id as string;
    // A chain of replies deeper than a page shows; two replies under its last shown comment.
    let parentId: string | undefined;
    const chain: string[] = [];
    for (let depth = 0; depth < 10; depth++) {
      const body = { body: `level ${depth}`, ...(parentId ? { parentId } : {}) };
      parentId = (await app.request('POST', `/api/v1/posts/${post}/comments`, { token: alice, body })).body
        .id as string;
      chain.push(parentId);
    }
    const cut = chain[9]!;
    for (const body of ['older reply', 'newer reply'])
      await app.request('POST', `/api/v1/posts/${post}/comments`, { token: bob, body: { body, parentId: cut } });
    const more = (html: string) =>
      [...html.matchAll(/<p class="more"><a href="([^"]+)">Continue this thread/g)].map((m) =>
        m[1]!.replaceAll('&amp;', '&'),
      );
    const replies = (html: string) => [...html.matchAll(/<p>(older|newer) reply<\/p>/g)].map((m) => m[1]);
    const get = async (path: string, token?: string) => {
      const answer = await fetch(`${app.base}${path}`, token ? { headers: { cookie: `agora_session=${token}` } } : {});
      assert.equal(answer.status, 200, path);
      return answer.text();
    };

    for (const token of [undefined, bob])
      for (const sort of ['best', 'new', 'old'] as const) {
        const html = await get(sort === 'best' ? `/p/${post}` : `/p/${post}?sort=${sort}`, token);
        // The page names the sort: the link needs no cursor.
        assert.deepEqual(more(html), [sort === 'best' ? `/comments/${cut}` : `/comments/${cut}?sort=${sort}`]);
        // The API's cursor for the same cut, and the page it leads to: the same replies, in the same order.
        const tree = await app.request('GET', `/api/v1/posts/${post}/comments?sort=${sort}`);
        const stub = (tree.body.more as { parentId: string; cursor: string }[]).find((s) => s.parentId === cut)!;
        const byCursor = replies(await get(`/comments/${cut}?cursor=${encodeURIComponent(stub.cursor)}`, token));
        const byLink = replies(await get(more(html)[0]!, token));
        assert.deepEqual(byLink, byCursor);
        if (sort !== 'best') assert.deepEqual(byLink, sort === 'old' ? ['older', 'newer'] : ['newer', 'older']);
        else assert.equal(byLink.length, 2);
      }
  });
});
