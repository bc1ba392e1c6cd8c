import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signUp, startTestApp, type TestApp } from '../../../test/support/app.js';
import { describeStores } from '../../../test/support/stores.js';
import { searchTerms } from './service.js';

test('search terms are letters and digits only; everything else separates them', () => {
  assert.deepEqual(searchTerms('"; DROP TABLE posts; -- OR 1=1'), ['drop', 'table', 'posts', 'or', '1']);
  assert.deepEqual(searchTerms('Ünïcode café NEAR(a b) *:'), ['ünïcode', 'café', 'near', 'a', 'b']);
  assert.deepEqual(searchTerms('!!!'), []);
});

describeStores('search', (kind) => {
  let app: TestApp;
  let token: string;
  const titles = async (q: string, type = 'posts') =>
    (await app.request('GET', `/api/v1/search?q=${encodeURIComponent(q)}&type=${type}`)).body.items.map(
      (i: { title: string }) => i.title,
    );

  before(async () => {
    app = await startTestApp(kind);
    token = (await signUp(app, 's_user')).token;
    await app.request('POST', '/api/v1/communities', {
      token,
      body: { name: 'birdwatching', title: 'Birds of the world', description: 'Herons and owls' },
    });
    for (const [title, body] of [
      ['Running with herons', 'Early morning runs by the lake'],
      ['Owls at night', 'A barn owl hunting'],
      ['Recipes', 'Nothing about birds here, just heron-shaped cookies'],
    ]) {
      await app.request('POST', '/api/v1/communities/birdwatching/posts', { token, body: { title, body } });
    }
  });
  after(() => app.close());

  test('stemming and prefix matching; title matches rank first', async () => {
    assert.deepEqual(await titles('run'), ['Running with herons']);
    assert.deepEqual(await titles('runs'), ['Running with herons']);
    assert.deepEqual(await titles('hero'), ['Running with herons', 'Recipes']);
    assert.deepEqual(await titles('owl hunt'), ['Owls at night']);
    assert.deepEqual(await titles('zzz'), []);
  });

  test('communities are searchable by name, title and description', async () => {
    const items = (await app.request('GET', '/api/v1/search?q=heron&type=communities')).body.items;
    assert.deepEqual(
      items.map((c: { name: string }) => c.name),
      ['birdwatching'],
    );
  });

  test('deleted posts are never found; new posts and edits are, at once', async () => {
    assert.deepEqual(await titles('kingfisher'), [], 'an empty answer, kept in memory');
    const p = (
      await app.request('POST', '/api/v1/communities/birdwatching/posts', {
        token,
        body: { title: 'Kingfisher sighting' },
      })
    ).body;
    assert.deepEqual(await titles('kingfisher'), ['Kingfisher sighting']);
    await app.request('PATCH', `/api/v1/posts/${p.id}`, { token, body: { body: 'also a wagtail' } });
    assert.deepEqual(await titles('wagtail'), ['Kingfisher sighting']);
    await app.request('DELETE', `/api/v1/posts/${p.id}`, { token });
    assert.deepEqual(await titles('kingfisher'), []);
  });

  test('hostile query strings are just text', async () => {
    for (const q of [
      '"',
      "'",
      'OR',
      'NEAR(',
      '*',
      ':*',
      '!',
      '&|',
      '"; DROP TABLE posts; --',
      'a'.repeat(500),
      '()',
      'AND NOT',
    ]) {
      const res = await app.request('GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, q);
    }
    assert.equal((await app.request('GET', '/api/v1/search?q=x&type=people')).status, 400);
  });

  test('results page with a cursor', async () => {
    for (let i = 0; i < 5; i++)
      await app.request('POST', '/api/v1/communities/birdwatching/posts', { token, body: { title: `Sparrow ${i}` } });
    const first = await app.request('GET', '/api/v1/search?q=sparrow&limit=3');
    assert.equal(first.body.items.length, 3);
    const second = await app.request('GET', `/api/v1/search?q=sparrow&limit=3&cursor=${first.body.nextCursor}`);
    assert.equal(second.body.items.length, 2);
    assert.equal(second.body.nextCursor, null);
    const all = [...first.body.items, ...second.body.items].map((p: { title: string }) => p.title).sort();
    assert.deepEqual(all, ['Sparrow 0', 'Sparrow 1', 'Sparrow 2', 'Sparrow 3', 'Sparrow 4']);
  });
});
