import type { Community } from '../../modules/communities/index.js';
import type { Post } from '../../modules/posts/index.js';
import type { Markdown } from '../markdown.js';
import { CommunityList } from './lists.js';
import { Form, Layout, Time, Votes, plural, type View, Pager } from '../view.js';

export type PostSort = 'hot' | 'new' | 'top';
export type Window = 'hour' | 'day' | 'week' | 'month' | 'year' | 'all';
const SORTS: PostSort[] = ['hot', 'new', 'top'];
const WINDOWS: Window[] = ['hour', 'day', 'week', 'month', 'year', 'all'];

/** One post in a listing: votes, title (the link, or the post page), where and when, its comments. */
export function PostItem(props: { view: View; post: Post; showCommunity: boolean }) {
  const { post, view } = props;
  const page = `/p/${post.id}`;
  return (
    <article class="post-item" id={`p-${post.id}`} aria-labelledby={`t-${post.id}`}>
      <Votes view={view} action={`${page}/vote`} score={post.score} myVote={post.myVote} what="this post" />
      <div>
        <h2 class="title" id={`t-${post.id}`}>
          <a href={post.url ?? page} rel={post.url ? 'nofollow ugc noopener' : undefined}>
            {post.title}
          </a>
          {post.url && <span class="domain"> ({hostOf(post.url)})</span>}
        </h2>
        <p class="meta">
          {props.showCommunity && (
            <>
              <a href={`/c/${post.communityName}`}>c/{post.communityName}</a> ·{' '}
            </>
          )}
          {post.author ? <a href={`/u/${post.author}`}>{post.author}</a> : '[deleted]'} · <Time ms={post.createdAt} /> ·{' '}
          <a href={page}>{plural(post.commentCount, 'comment')}</a>
          {post.locked && ' · locked'}
          {post.removed && ' · removed'}
        </p>
      </div>
    </article>
  );
}

export function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return url;
  }
}

/** hot / new / top, and top's time windows, as links. */
export function SortTabs(props: { base: string; sort: PostSort; t: Window }) {
  const href = (sort: PostSort, t?: Window) => `${props.base}?sort=${sort}${t && t !== 'all' ? `&t=${t}` : ''}`;
  return (
    <nav class="tabs" aria-label="Sort posts">
      {SORTS.map((s) => (
        <a href={href(s)} aria-current={s === props.sort ? 'page' : undefined}>
          {s}
        </a>
      ))}
      {props.sort === 'top' && (
        <span class="windows">
          {WINDOWS.map((t) => (
            <a href={href('top', t)} aria-current={t === props.t ? 'page' : undefined}>
              {t === 'all' ? 'all time' : `past ${t}`}
            </a>
          ))}
        </span>
      )}
    </nav>
  );
}

export function PostList(props: {
  view: View;
  posts: Post[];
  next: string | null;
  showCommunity: boolean;
  empty: preact.ComponentChildren;
}) {
  return (
    <>
      {props.posts.length === 0 ? (
        <p class="empty">{props.empty}</p>
      ) : (
        <div class="posts">
          {props.posts.map((post) => (
            <PostItem view={props.view} post={post} showCommunity={props.showCommunity} />
          ))}
        </div>
      )}
      <Pager next={props.next} label="More posts" />
    </>
  );
}

export function FeedPage(props: {
  view: View;
  posts: Post[];
  next: string | null;
  sort: PostSort;
  t: Window;
  subscribedToNone: boolean;
}) {
  const { view } = props;
  return (
    <Layout view={view} title={view.me ? 'Your feed' : 'Front page'}>
      <h1>{view.me ? 'Your feed' : 'Front page'}</h1>
      <SortTabs base="/" sort={props.sort} t={props.t} />
      <PostList
        view={view}
        posts={props.posts}
        next={props.next}
        showCommunity
        empty={
          props.subscribedToNone ? (
            <>
              You follow no community yet: <a href="/communities">find some</a>.
            </>
          ) : (
            'No posts yet.'
          )
        }
      />
    </Layout>
  );
}

export function CommunityPage(props: {
  view: View;
  community: Community;
  posts: Post[];
  next: string | null;
  sort: PostSort;
  t: Window;
  markdown: Markdown;
}) {
  const { view, community: c } = props;
  const moderator = view.me !== null && (view.me.isAdmin || c.moderators.includes(view.me.username));
  return (
    <Layout view={view} title={c.title}>
      <div class="with-side">
        <div>
          <h1>
            {c.title} <span class="muted">c/{c.name}</span>
          </h1>
          <p>
            <a class="button" href={`/c/${c.name}/submit`}>
              Submit a post
            </a>
          </p>
          <SortTabs base={`/c/${c.name}`} sort={props.sort} t={props.t} />
          <PostList view={view} posts={props.posts} next={props.next} showCommunity={false} empty="No posts yet." />
        </div>
        <aside class="side" aria-label="About this community">
          <h2>About</h2>
          <p>
            {plural(c.subscriberCount, 'subscriber')} · since <Time ms={c.createdAt} />
          </p>
          {view.me && (
            <Form view={view} action={`/c/${c.name}/${c.subscribed ? 'unsubscribe' : 'subscribe'}`}>
              <button type="submit">{c.subscribed ? 'Leave' : 'Join'}</button>
            </Form>
          )}
          {c.description && (
            <div class="md" dangerouslySetInnerHTML={{ __html: props.markdown.render(`c:${c.id}`, c.description) }} />
          )}
          <p>
            <a href={`/c/${c.name}/modlog`}>Moderation log</a>
            {moderator && (
              <>
                {' '}
                · <a href={`/c/${c.name}/reports`}>Reports</a> · <a href={`/c/${c.name}/bans`}>Bans</a>
              </>
            )}
          </p>
          <h3>Moderators</h3>
          <ul>
            {c.moderators.map((m) => (
              <li>
                <a href={`/u/${m}`}>{m}</a>
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </Layout>
  );
}

export function CommunitiesPage(props: { view: View; communities: Community[]; next: string | null }) {
  const { view } = props;
  return (
    <Layout view={view} title="Communities">
      <h1>Communities</h1>
      {view.me && (
        <p>
          <a class="button" href="/communities/new">
            Create a community
          </a>
        </p>
      )}
      <CommunityList communities={props.communities} empty="No communities yet." />
      <Pager next={props.next} label="More communities" />
    </Layout>
  );
}
