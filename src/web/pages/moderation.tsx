import type { Ban, ModlogEntry, Report } from '../../modules/moderation/index.js';
import { Field, Form, FormError, Layout, Pager, Time, type FilledForm, type View } from '../view.js';

/** Where a report or a log entry points: the post's page, a comment's, an account's. */
function targetLink(type: string, id: string): string | null {
  if (type === 'post') return `/p/${id}`;
  if (type === 'comment') return `/comments/${id}`;
  return null;
}

export function ReportPage(props: { view: View; what: 'post' | 'comment'; id: string; title: string } & FilledForm) {
  const { view } = props;
  const base = props.what === 'post' ? `/p/${props.id}` : `/comments/${props.id}`;
  return (
    <Layout view={view} title={`Report a ${props.what}`}>
      <h1>Report a {props.what}</h1>
      <p>
        <a href={base}>{props.title}</a>
      </p>
      <Form view={view} action={`${base}/report`} class="stack">
        <FormError errors={props.errors ?? {}} />
        <Field form={props} label="What is wrong with it?" name="reason" multiline required maxLength={1000} />
        <button type="submit">Send the report</button>
      </Form>
    </Layout>
  );
}

/** A moderator's tools for a post or a comment: remove with a reason, or restore; lock a post's thread. */
export function ModTools(props: {
  view: View;
  what: 'post' | 'comment';
  id: string;
  removed: boolean;
  locked?: boolean;
}) {
  const { view } = props;
  const base = props.what === 'post' ? `/p/${props.id}` : `/comments/${props.id}`;
  return (
    <section class="modtools" aria-label={`Moderate this ${props.what}`}>
      {props.removed ? (
        <Form view={view} action={`${base}/restore`} class="inline">
          <button type="submit">Restore this {props.what}</button>
        </Form>
      ) : (
        <Form view={view} action={`${base}/remove`} class="row">
          <label for={`reason-${props.id}`}>Reason for removal</label>
          <input id={`reason-${props.id}`} name="reason" required maxLength={1000} />
          <button type="submit">Remove this {props.what}</button>
        </Form>
      )}
      {props.locked !== undefined && (
        <Form view={view} action={`${base}/${props.locked ? 'unlock' : 'lock'}`} class="inline">
          <button type="submit">{props.locked ? 'Unlock the thread' : 'Lock the thread'}</button>
        </Form>
      )}
    </section>
  );
}

function CommunityTabs(props: { name: string; current: 'reports' | 'modlog' | 'bans'; moderator: boolean }) {
  const tab = (key: 'reports' | 'modlog' | 'bans', label: string) => (
    <a href={`/c/${props.name}/${key}`} aria-current={key === props.current ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <nav class="tabs" aria-label="Moderation">
      <a href={`/c/${props.name}`}>c/{props.name}</a>
      {props.moderator && tab('reports', 'reports')}
      {tab('modlog', 'modlog')}
      {props.moderator && tab('bans', 'bans')}
    </nav>
  );
}

export function ReportsPage(props: { view: View; community: string; reports: Report[]; next: string | null }) {
  const { view } = props;
  return (
    <Layout view={view} title={`Reports in c/${props.community}`}>
      <h1>Reports</h1>
      <CommunityTabs name={props.community} current="reports" moderator />
      {props.reports.length === 0 ? (
        <p class="empty">No open reports.</p>
      ) : (
        <ul class="comment-list">
          {props.reports.map((r) => (
            <li>
              <p>
                <a href={targetLink(r.targetType, r.targetId) ?? '#'}>the {r.targetType}</a>: {r.reason}
              </p>
              <p class="meta">
                reported by {r.reporter} · <Time ms={r.createdAt} />
              </p>
              <Form view={view} action={`/reports/${r.id}/resolve`} class="inline">
                <input type="hidden" name="community" value={props.community} />
                <button type="submit">Mark handled</button>
              </Form>
            </li>
          ))}
        </ul>
      )}
      <Pager next={props.next} label="More reports" />
    </Layout>
  );
}

const ACTIONS: Record<string, string> = {
  add_moderator: 'added a moderator',
  remove_moderator: 'removed a moderator',
  ban: 'banned',
  unban: 'lifted the ban of',
  remove_post: 'removed a post',
  restore_post: 'restored a post',
  lock_post: 'locked a post',
  unlock_post: 'unlocked a post',
  remove_comment: 'removed a comment',
  restore_comment: 'restored a comment',
  resolve_report: 'handled a report',
};

export function ModlogPage(props: {
  view: View;
  community: string;
  moderator: boolean;
  entries: ModlogEntry[];
  next: string | null;
}) {
  return (
    <Layout view={props.view} title={`Moderation log of c/${props.community}`}>
      <h1>Moderation log</h1>
      <CommunityTabs name={props.community} current="modlog" moderator={props.moderator} />
      {props.entries.length === 0 ? (
        <p class="empty">Nothing yet.</p>
      ) : (
        <ul class="comment-list modlog">
          {props.entries.map((e) => {
            const link = targetLink(e.targetType, e.targetId);
            return (
              <li>
                <Time ms={e.createdAt} />: {e.moderator} {ACTIONS[e.action] ?? e.action}
                {link && (
                  <>
                    {' '}
                    (<a href={link}>{e.targetType}</a>)
                  </>
                )}
                {e.reason && <>: {e.reason}</>}
              </li>
            );
          })}
        </ul>
      )}
      <Pager next={props.next} label="Older entries" />
    </Layout>
  );
}

export function BansPage(props: { view: View; community: string; bans: Ban[] } & FilledForm) {
  const { view } = props;
  return (
    <Layout view={view} title={`Bans in c/${props.community}`}>
      <h1>Bans</h1>
      <CommunityTabs name={props.community} current="bans" moderator />
      <Form view={view} action={`/c/${props.community}/bans`} class="stack">
        <FormError errors={props.errors ?? {}} />
        <Field form={props} label="Username" name="username" required maxLength={20} />
        <Field form={props} label="Reason" name="reason" required maxLength={1000} />
        <Field form={props} label="Days (empty: until lifted)" name="days" maxLength={4} />
        <button type="submit">Ban</button>
      </Form>
      {props.bans.length === 0 ? (
        <p class="empty">Nobody is banned.</p>
      ) : (
        <ul class="comment-list">
          {props.bans.map((b) => (
            <li>
              <a href={`/u/${b.username}`}>{b.username}</a>: {b.reason} · since <Time ms={b.createdAt} />
              {b.expiresAt !== null && (
                <>
                  {' '}
                  · until <Time ms={b.expiresAt} />
                </>
              )}
              <Form view={view} action={`/c/${props.community}/bans/${b.username}/lift`} class="inline">
                {' '}
                <button type="submit" class="link">
                  Lift the ban of {b.username}
                </button>
              </Form>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}
