import type { Account } from '../../modules/accounts/index.js';
import type { Comment } from '../../modules/comments/index.js';
import type { Post } from '../../modules/posts/index.js';
import type { Markdown } from '../markdown.js';
import { Layout, Time, plural, type View, Pager } from '../view.js';
import { CommentList } from './lists.js';
import { PostList } from './posts.js';

export function ProfilePage(props: {
  view: View;
  account: Account;
  tab: 'posts' | 'comments';
  posts: Post[];
  comments: Comment[];
  next: string | null;
  markdown: Markdown;
}) {
  const { view, account: a } = props;
  const base = `/u/${a.username}`;
  return (
    <Layout view={view} title={a.username}>
      <h1>{a.username}</h1>
      <p class="meta">
        {plural(a.karma.post, 'post point')} · {plural(a.karma.comment, 'comment point')} · joined{' '}
        <Time ms={a.createdAt} />
      </p>
      <nav class="tabs" aria-label="Profile">
        <a href={base} aria-current={props.tab === 'posts' ? 'page' : undefined}>
          posts
        </a>
        <a href={`${base}?tab=comments`} aria-current={props.tab === 'comments' ? 'page' : undefined}>
          comments
        </a>
      </nav>
      {props.tab === 'posts' ? (
        <PostList view={view} posts={props.posts} next={props.next} showCommunity empty="No posts yet." />
      ) : (
        <>
          <CommentList
            comments={props.comments}
            markdown={props.markdown}
            empty="No comments yet."
            showAuthor={false}
          />
          <Pager next={props.next} label="More comments" />
        </>
      )}
    </Layout>
  );
}
