import { Field, Form, FormError, Layout, type FilledForm, type View } from '../view.js';

/** A post or comment of one's own, as its edit and delete pages show it. */
export interface Authored {
  what: 'post' | 'comment';
  /** Its address (`/p/:id`, `/comments/:id`). */
  path: string;
  /** What the page links back to it with. */
  title: string;
}

/** Editing one's own post's text or comment, the current text in the field. */
export function EditPage(props: { view: View; item: Authored } & FilledForm) {
  const { view, item } = props;
  const comment = item.what === 'comment';
  return (
    <Layout view={view} title={`Edit your ${item.what}`}>
      <h1>Edit your {item.what}</h1>
      <p>
        <a href={item.path}>{item.title}</a>
      </p>
      <Form view={view} action={`${item.path}/edit`} class="stack">
        <FormError errors={props.errors ?? {}} />
        <Field
          form={props}
          label={comment ? 'Your comment (Markdown)' : 'Text (Markdown)'}
          name="body"
          multiline
          required={comment}
          maxLength={comment ? 10_000 : 40_000}
        />
        <button type="submit">Save</button>
      </Form>
    </Layout>
  );
}

/** Deleting one's own post or comment: said what it does, asked once. */
export function DeletePage(props: { view: View; item: Authored } & FilledForm) {
  const { view, item } = props;
  return (
    <Layout view={view} title={`Delete your ${item.what}`}>
      <h1>Delete your {item.what}?</h1>
      <p>
        <a href={item.path}>{item.title}</a>
      </p>
      <p>
        {item.what === 'comment'
          ? 'Its text and your name are taken off; the replies to it stay, under "[deleted]".'
          : 'It leaves its community’s listings; its page says it was deleted, and the comments stay.'}
      </p>
      <Form view={view} action={`${item.path}/delete`} class="stack">
        <FormError errors={props.errors ?? {}} />
        <button type="submit" class="danger">
          Delete
        </button>
        <a href={item.path}>Keep it</a>
      </Form>
    </Layout>
  );
}
