import type { InboxItem } from '../../modules/comments/index.js';
import type { Markdown } from '../markdown.js';
import { Form, Layout, Pager, Time, type View } from '../view.js';
import { CommentText } from './lists.js';

export function InboxPage(props: {
  view: View;
  items: InboxItem[];
  unreadCount: number;
  unreadOnly: boolean;
  next: string | null;
  markdown: Markdown;
}) {
  const { view } = props;
  return (
    <Layout view={view} title="Inbox">
      <h1>Inbox</h1>
      <nav class="tabs" aria-label="Inbox">
        <a href="/inbox" aria-current={props.unreadOnly ? undefined : 'page'}>
          all
        </a>
        <a href="/inbox?unread=true" aria-current={props.unreadOnly ? 'page' : undefined}>
          unread ({props.unreadCount})
        </a>
      </nav>
      {props.unreadCount > 0 && (
        <Form view={view} action="/inbox/read" class="inline">
          <button type="submit">Mark all read</button>
        </Form>
      )}
      {props.items.length === 0 ? (
        <p class="empty">Nothing here yet: replies to your comments and mentions of you (u/name) arrive here.</p>
      ) : (
        <ul class="comment-list inbox">
          {props.items.map((item) => (
            <li class={item.read ? 'read' : 'unread'}>
              <p class="meta">
                {item.read ? '' : <strong>new · </strong>}
                {item.type === 'reply' ? 'reply' : 'mention'} by {item.comment.author ?? '[deleted]'} ·{' '}
                <Time ms={item.createdAt} /> · <a href={`/comments/${item.comment.id}`}>context</a>
              </p>
              <CommentText markdown={props.markdown} comment={item.comment} />
            </li>
          ))}
        </ul>
      )}
      <Pager next={props.next} label="Older items" />
    </Layout>
  );
}
