import type { Comment } from '../../modules/comments/index.js';
import type { Community } from '../../modules/communities/index.js';
import type { Markdown } from '../markdown.js';
import { Time, plural } from '../view.js';

/** A comment's body as HTML, rendered once per version (its id and edit time). */
export function CommentText(props: { markdown: Markdown; comment: Comment }) {
  const c = props.comment;
  return (
    <div
      class="md"
      dangerouslySetInnerHTML={{ __html: props.markdown.render(`m:${c.id}:${c.editedAt ?? 0}`, c.body ?? '') }}
    />
  );
}

/** Comments out of their thread (a profile, search results), each with its permalink. */
export function CommentList(props: { comments: Comment[]; markdown: Markdown; empty: string; showAuthor: boolean }) {
  if (props.comments.length === 0) return <p class="empty">{props.empty}</p>;
  return (
    <ul class="comment-list">
      {props.comments.map((c) => (
        <li>
          <CommentText markdown={props.markdown} comment={c} />
          <p class="meta">
            {props.showAuthor && <>{c.author ?? '[deleted]'} · </>}
            <Time ms={c.createdAt} /> · {plural(c.score, 'point')} · <a href={`/comments/${c.id}`}>permalink</a>
          </p>
        </li>
      ))}
    </ul>
  );
}

export function CommunityList(props: { communities: Community[]; empty: string }) {
  if (props.communities.length === 0) return <p class="empty">{props.empty}</p>;
  return (
    <ul class="communities">
      {props.communities.map((c) => (
        <li>
          <a href={`/c/${c.name}`}>{c.title}</a> <span class="muted">c/{c.name}</span> ·{' '}
          {plural(c.subscriberCount, 'subscriber')}
        </li>
      ))}
    </ul>
  );
}
