import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { describeStores, type StoreKind } from '../../test/support/stores.js';

describeStores('signed-out pages are shared and never stale', (kind: StoreKind) => {
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
  });
});
