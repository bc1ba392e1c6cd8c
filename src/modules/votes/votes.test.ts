import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { describeStores } from '../../../test/support/stores.js';
import { systemClock } from '../../platform/clock.js';
import { IN_LIST_MAX } from '../../platform/store/index.js';
import { createVotesModule, type VotesModule } from './index.js';

describeStores("votes: a reader's votes on a post and its comments", (kind) => {
  let app: TestApp;
  let votes: VotesModule;
  let reader: string;
  let postId: string;
  let comments: string[];
  before(async () => {
    app = await startTestApp(kind);
    votes = createVotesModule({ store: app.agora.store, clock: systemClock });
    const token = async (username: string) => {
      const body = { username, password: 'a good long password' };
      await app.request('POST', '/api/v1/accounts', { body });
      return (await app.request('POST', '/api/v1/sessions', { body })).body.token as string;
    };
    const [writer, voter] = [await token('writer'), await token('voter')];
    reader = (await app.request('GET', '/api/v1/me', { token: voter })).body.id;
    await app.request('POST', '/api/v1/communities', { token: writer, body: { name: 'garden', title: 'Garden' } });
    postId = (await app.request('POST', '/api/v1/communities/garden/posts', { token: writer, body: { title: 'Peas' } }))
      .body.id;
    comments = [];
    for (const body of ['one', 'two', 'three'])
      comments.push(
        (await app.request('POST', `/api/v1/posts/${postId}/comments`, { token: writer, body: { body } })).body.id,
      );
    const vote = (path: string, value: number) => app.request('PUT', path, { token: voter, body: { value } });
    assert.equal((await vote(`/api/v1/posts/${postId}/vote`, 1)).status, 200);
    assert.equal((await vote(`/api/v1/comments/${comments[0]}/vote`, -1)).status, 200);
    assert.equal((await vote(`/api/v1/comments/${comments[2]}/vote`, 1)).status, 200);
  });
  after(() => app?.close());

  test('both kinds in one call, each under its own kind, the same as asking for each', async () => {
    const both = await votes.mineOf(reader, { post: [postId], comment: comments });
    assert.deepEqual([...both.post], [[postId, 1]]);
    assert.deepEqual(
      new Map(both.comment),
      new Map([
        [comments[0], -1],
        [comments[2], 1],
      ]),
    );
    assert.deepEqual(both.comment, await votes.mine(reader, 'comment', comments));
    assert.deepEqual(both.post, await votes.mine(reader, 'post', [postId]));
    // A comment id asked for as a post is not the comment's vote.
    assert.equal((await votes.mineOf(reader, { post: [comments[0]!], comment: [] })).post.size, 0);
  });

  test('none asked, or more than one IN list holds: the same answers', async () => {
    const none = await votes.mineOf(reader, { post: [], comment: [] });
    assert.equal(none.post.size + none.comment.size, 0);
    const many = [...comments, ...Array.from({ length: IN_LIST_MAX }, (_, i) => `nosuchcomment${i}`)];
    const big = await votes.mineOf(reader, { post: [postId], comment: many });
    assert.deepEqual(big.comment, await votes.mine(reader, 'comment', comments));
    assert.deepEqual([...big.post], [[postId, 1]]);
  });
});
