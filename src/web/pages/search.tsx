import type { Comment } from '../../modules/comments/index.js';
import type { Community } from '../../modules/communities/index.js';
import type { Post } from '../../modules/posts/index.js';
import type { SearchKind } from '../../modules/search/index.js';
import type { Markdown } from '../markdown.js';
import { Layout, type View, Pager } from '../view.js';
import { CommentList, CommunityList } from './lists.js';
import { PostItem } from './posts.js';

const KINDS: SearchKind[] = ['posts', 'comments', 'communities'];

export function SearchPage(props: {
  view: View;
  q: string;
  type: SearchKind;
  items: unknown[];
  next: string | null;
  markdown: Markdown;
}) {
  const { view, q, type } = props;
  return (
    <Layout view={view} title={q ? `Search: ${q}` : 'Search'}>
      <h1>Search</h1>
      <form method="get" action="/search" role="search" class="stack">
        <div class="field">
          <label for="search-q">Words to find</label>
          <input id="search-q" name="q" type="search" value={q} maxLength={200} />
        </div>
        <input type="hidden" name="type" value={type} />
        <button type="submit">Search</button>
      </form>
      <nav class="tabs" aria-label="What to search">
        {KINDS.map((k) => (
          <a href={`/search?q=${encodeURIComponent(q)}&type=${k}`} aria-current={k === type ? 'page' : undefined}>
            {k}
          </a>
        ))}
      </nav>
      {q && props.items.length === 0 && <p class="empty">Nothing found.</p>}
      {type === 'posts' && (props.items as Post[]).map((post) => <PostItem view={view} post={post} showCommunity />)}
      {type === 'comments' && (
        <CommentList comments={props.items as Comment[]} markdown={props.markdown} empty="" showAuthor />
      )}
      {type === 'communities' && <CommunityList communities={props.items as Community[]} empty="" />}
      <Pager next={props.next} label="More results" />
    </Layout>
  );
}
