import type { ComponentChildren } from 'preact';
import type { FormErrors } from '../forms.js';
import { Field, Form, FormError, Layout, type FilledForm, type View } from '../view.js';

/** A page that is one form: its heading, the form's own message, its fields, its button. */
function FormPage(props: {
  view: View;
  title: string;
  heading?: ComponentChildren;
  action: string;
  submit: string;
  errors?: FormErrors<string> | undefined;
  children: ComponentChildren;
  after?: ComponentChildren;
}) {
  return (
    <Layout view={props.view} title={props.title}>
      <h1>{props.heading ?? props.title}</h1>
      <Form view={props.view} action={props.action} class="stack">
        <FormError errors={props.errors ?? {}} />
        {props.children}
        <button type="submit">{props.submit}</button>
      </Form>
      {props.after}
    </Layout>
  );
}

type FormProps = { view: View } & FilledForm;

export function SignUpPage(props: FormProps) {
  return (
    <FormPage
      view={props.view}
      title="Sign up"
      action="/signup"
      submit="Create account"
      errors={props.errors}
      after={
        <p>
          Have an account? <a href="/signin">Sign in</a>
        </p>
      }
    >
      <Field
        form={props}
        label="Username"
        name="username"
        required
        maxLength={20}
        hint="3 to 20 letters, digits or _"
        autocomplete="username"
      />
      <Field
        form={{ errors: props.errors }}
        label="Password"
        name="password"
        type="password"
        required
        maxLength={128}
        hint="At least 8 characters"
        autocomplete="new-password"
      />
      <Field
        form={props}
        label="E-mail (optional, for order receipts)"
        name="email"
        type="email"
        maxLength={254}
        autocomplete="email"
      />
    </FormPage>
  );
}

export function SignInPage(props: FormProps & { next: string }) {
  return (
    <FormPage
      view={props.view}
      title="Sign in"
      action="/signin"
      submit="Sign in"
      errors={props.errors}
      after={
        <p>
          New here? <a href="/signup">Sign up</a>
        </p>
      }
    >
      <input type="hidden" name="next" value={props.next} />
      <Field form={props} label="Username" name="username" required maxLength={64} autocomplete="username" />
      <Field
        form={{ errors: props.errors }}
        label="Password"
        name="password"
        type="password"
        required
        maxLength={128}
        autocomplete="current-password"
      />
    </FormPage>
  );
}

export function SubmitPage(props: FormProps & { community: string }) {
  const c = props.community;
  return (
    <FormPage
      view={props.view}
      title={`Submit to c/${c}`}
      heading={
        <>
          Submit to <a href={`/c/${c}`}>c/{c}</a>
        </>
      }
      action={`/c/${c}/submit`}
      submit="Post"
      errors={props.errors}
    >
      <Field form={props} label="Title" name="title" required maxLength={300} />
      <Field form={props} label="Link (optional)" name="url" type="url" maxLength={2000} hint="http:// or https://" />
      <Field form={props} label="Text (optional, Markdown)" name="body" multiline maxLength={40_000} />
    </FormPage>
  );
}

export function NewCommunityPage(props: FormProps) {
  return (
    <FormPage view={props.view} title="Create a community" action="/communities" submit="Create" errors={props.errors}>
      <Field
        form={props}
        label="Name"
        name="name"
        required
        maxLength={21}
        hint="3 to 21 letters, digits or _; it cannot change"
      />
      <Field form={props} label="Title" name="title" required maxLength={100} />
      <Field form={props} label="Description (Markdown)" name="description" multiline maxLength={10_000} />
    </FormPage>
  );
}

export function ErrorPage(props: { view: View; status: number; message: string }) {
  const heading =
    props.status === 404 ? 'Not found' : props.status >= 500 ? 'Something went wrong' : 'That did not work';
  return (
    <Layout view={props.view} title={heading}>
      <h1>{heading}</h1>
      <p role="alert">{props.message}</p>
      <p>
        <a href="/">Front page</a>
      </p>
    </Layout>
  );
}
