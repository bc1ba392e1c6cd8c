import type { CommentSort } from '../../modules/comments/index.js';
import type { Post } from '../../modules/posts/index.js';
import type { Markdown } from '../markdown.js';
import type { FormErrors } from '../forms.js';
import { Field, Form, FormError, Layout, Time, Votes, plural, type View } from '../view.js';
import { ModTools } from './moderation.js';
import { hostOf } from './posts.js';
import {
  commentHtml,
  treeHtml,
  treeTemplate,
  type Stub,
  type TreeContext,
  type TreeNode,
  type TreeTemplate,
} from './tree-html.js';

export type { Stub, TreeNode } from './tree-html.js';

const SORTS: CommentSort[] = ['best', 'top', 'new', 'old', 'controversial'];

/** What the tree's HTML needs of the page. */
function treeContext(
  view: View,
  locked: boolean,
  markdown: Markdown,
  more: Stub[],
  sort: CommentSort | null,
): TreeContext {
  return { signedIn: view.me !== null, locked, markdown, stubs: groupStubs(more), sort };
}

/** A post's tree answer (the comments module's JSON text, parsed). */
export interface PostTree {
  items: TreeNode[];
  more: Stub[];
}

/**
 * The post page's comments as HTML, for a reader who is not signed in (the page is kept whole).
 * `sort`: the tree's, when the page's address names it (null: it came with a cursor).
 */
export const postTreeHtml = (view: View, post: Post, tree: PostTree, markdown: Markdown, sort: CommentSort | null) =>
  treeHtml(tree.items, null, post.id, treeContext(view, post.locked, markdown, tree.more, sort));

/** The post page's comments as a template every signed-in reader's page is filled from. */
export const postTreeTemplate = (
  view: View,
  post: Post,
  tree: PostTree,
  markdown: Markdown,
  sort: CommentSort | null,
): TreeTemplate => treeTemplate(tree.items, post.id, treeContext(view, post.locked, markdown, tree.more, sort));

export function groupStubs(more: Stub[]): Map<string | null, Stub[]> {
  const byParent = new Map<string | null, Stub[]>();
  for (const stub of more) byParent.set(stub.parentId, [...(byParent.get(stub.parentId) ?? []), stub]);
  return byParent;
}

function PostHead(props: { view: View; post: Post; markdown: Markdown }) {
  const { post, view } = props;
  return (
    <article class="post" id={`p-${post.id}`}>
      <Votes view={view} action={`/p/${post.id}/vote`} score={post.score} myVote={post.myVote} what="this post" />
      <div>
        <h1>
          {post.url ? (
            <a href={post.url} rel="nofollow ugc noopener">
              {post.title}
            </a>
          ) : (
            post.title
          )}
          {post.url && <span class="domain"> ({hostOf(post.url)})</span>}
        </h1>
        <p class="meta">
          <a href={`/c/${post.communityName}`}>c/{post.communityName}</a> ·{' '}
          {post.author ? <a href={`/u/${post.author}`}>{post.author}</a> : '[deleted]'} · <Time ms={post.createdAt} />
          {post.locked && ' · locked'}
        </p>
        {post.removed && (
          <p class="notice">Removed by a moderator{post.removalReason ? `: ${post.removalReason}` : ''}.</p>
        )}
        {post.body && (
          <div
            class="md"
            dangerouslySetInnerHTML={{ __html: props.markdown.render(`p:${post.id}:${post.editedAt ?? 0}`, post.body) }}
          />
        )}
      </div>
    </article>
  );
}

/** For its author, a post's or a comment's edit and delete links; for another signed-in reader, its report link. */
function Aside(props: { view: View; what: 'post' | 'comment'; id: string; author: string | null }) {
  if (!props.view.me || props.author === null) return null;
  const base = `${props.what === 'post' ? '/p' : '/comments'}/${props.id}`;
  if (props.view.me.username === props.author)
    return (
      <p class="aside">
        <a href={`${base}/edit`}>Edit your {props.what}</a> · <a href={`${base}/delete`}>Delete it</a>
      </p>
    );
  return (
    <p class="aside">
      <a href={`${base}/report`}>Report this {props.what}</a>
    </p>
  );
}

export function ReplyForm(props: {
  view: View;
  action: string;
  label: string;
  values?: { body: string };
  errors?: FormErrors<'body'>;
}) {
  const { view } = props;
  if (!view.me)
    return (
      <p>
        <a href={`/signin?next=${encodeURIComponent(view.path)}`}>Sign in</a> to reply.
      </p>
    );
  return (
    <Form view={view} action={props.action} class="reply" id="reply">
      <FormError errors={props.errors ?? {}} />
      <Field form={props} label={props.label} name="body" multiline required maxLength={10_000} />
      <button type="submit">Reply</button>
    </Form>
  );
}

export function PostPage(props: {
  view: View;
  post: Post;
  /** The comments' HTML (`postTreeHtml`, or a hole the template's parts fill). */
  tree: string;
  sort: CommentSort;
  continued: boolean;
  markdown: Markdown;
  moderator: boolean;
  notice?: string | undefined;
  reply?: { values: { body: string }; errors: FormErrors<'body'> };
}) {
  const { view, post } = props;
  return (
    <Layout view={view} title={post.title}>
      {props.notice && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      <PostHead view={view} post={post} markdown={props.markdown} />
      <Aside view={view} what="post" id={post.id} author={post.author} />
      {props.moderator && <ModTools view={view} what="post" id={post.id} removed={post.removed} locked={post.locked} />}
      {post.locked ? (
        <p class="notice">This thread is locked: no new comments.</p>
      ) : (
        <ReplyForm view={view} action={`/p/${post.id}/comments`} label="Your comment" {...props.reply} />
      )}
      <section aria-label="Comments" class="thread">
        <h2>{plural(post.commentCount, 'comment')}</h2>
        <nav class="tabs" aria-label="Sort comments">
          {SORTS.map((s) => (
            <a href={`/p/${post.id}?sort=${s}`} aria-current={s === props.sort ? 'page' : undefined}>
              {s}
            </a>
          ))}
        </nav>
        {props.continued && (
          <p>
            <a href={`/p/${post.id}`}>Back to the top of the thread</a>
          </p>
        )}
        <div class="tree" dangerouslySetInnerHTML={{ __html: props.tree }} />
      </section>
    </Layout>
  );
}

/** A comment's own page: the comment, its replies, a link to its context, and the reply form. */
export function CommentPage(props: {
  view: View;
  post: Post;
  root: TreeNode;
  more: Stub[];
  /** The replies' sort, when the page's address names it (null: it came with a cursor). */
  sort: CommentSort | null;
  markdown: Markdown;
  moderator: boolean;
  notice?: string | undefined;
  reply?: { values: { body: string }; errors: FormErrors<'body'> };
}) {
  const { view, post, root } = props;
  const tree = commentHtml(root, treeContext(view, post.locked, props.markdown, props.more, props.sort));
  return (
    <Layout view={view} title={`Comment on ${post.title}`}>
      {props.notice && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      <p class="crumbs">
        Comment on <a href={`/p/${post.id}`}>{post.title}</a>
        {root.parentId && (
          <>
            {' '}
            · <a href={`/comments/${root.parentId}`}>show context</a>
          </>
        )}
      </p>
      <section aria-label="Comment" class="thread">
        <div class="tree" dangerouslySetInnerHTML={{ __html: tree }} />
      </section>
      <Aside view={view} what="comment" id={root.id} author={root.author} />
      {props.moderator && <ModTools view={view} what="comment" id={root.id} removed={root.removed} />}
      {post.locked || root.deleted ? (
        <p class="notice">Replies are closed here.</p>
      ) : (
        <ReplyForm
          view={view}
          action={`/comments/${root.id}/reply`}
          label={`Reply to ${root.author ?? 'this comment'}`}
          {...props.reply}
        />
      )}
    </Layout>
  );
}
