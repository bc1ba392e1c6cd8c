import type { MigrationStatus } from '../../platform/migration/index.js';
import { Layout, Time, type View } from '../view.js';

const PHASES: Record<MigrationStatus['phase'], string> = {
  idle: 'No migration',
  copying: 'Copying the tables to the target while the site serves',
  streaming: 'Copied; the changes stream to the target (ready for verify and cutover)',
  cut_over: 'Cut over: the site serves from the target; changes stream back to the source until finish',
  done: 'Finished: the source is retired',
  rolled_back: 'Rolled back: the site serves from the source again',
  aborted: 'Aborted',
  failed: 'Failed',
};

/** The site admin's page: the live migration's state as `GET /admin/migration` reports it. */
export function AdminPage(props: { view: View; status: MigrationStatus }) {
  const s = props.status;
  const pct = s.totalRows > 0 ? Math.min(100, Math.floor((100 * s.copiedRows) / s.totalRows)) : 0;
  return (
    <Layout view={props.view} title="Site admin">
      <h1>Site admin</h1>
      <section aria-labelledby="migration">
        <h2 id="migration">Live migration between stores</h2>
        <p role="status">
          <strong>{PHASES[s.phase]}</strong>
          {s.error && <> — {s.error}</>}
        </p>
        {s.phase !== 'idle' && (
          <dl class="facts">
            <dt>From</dt>
            <dd>{s.source ?? '—'}</dd>
            <dt>To</dt>
            <dd>{s.target ?? '—'}</dd>
            {s.startedAt !== null && (
              <>
                <dt>Started</dt>
                <dd>
                  <Time ms={s.startedAt} />
                </dd>
              </>
            )}
            <dt>Copied</dt>
            <dd>
              <progress max={100} value={pct} aria-label="rows copied">
                {pct} %
              </progress>{' '}
              {s.copiedRows.toLocaleString('en')} of {s.totalRows.toLocaleString('en')} rows ({pct} %),{' '}
              {Math.round(s.rowsPerSecond).toLocaleString('en')} rows/s
              {s.etaSeconds !== null && <>, about {Math.ceil(s.etaSeconds)} s left</>}
            </dd>
            <dt>Lag</dt>
            <dd>
              {s.lag.events} changes, {s.lag.ms} ms
            </dd>
            {s.verify && (
              <>
                <dt>Last verify</dt>
                <dd>
                  <Time ms={s.verify.at} />: {s.verify.mismatches} mismatches
                </dd>
              </>
            )}
            {s.cutover && (
              <>
                <dt>Cutover</dt>
                <dd>
                  <Time ms={s.cutover.at} />, writes paused {s.cutover.pauseMs} ms
                </dd>
              </>
            )}
            <dt>Run by</dt>
            <dd>{s.runningHere ? 'this process' : 'another process'}</dd>
          </dl>
        )}
        {s.tables.length > 0 && (
          <table>
            <caption>Tables</caption>
            <thead>
              <tr>
                <th scope="col">table</th>
                <th scope="col">rows</th>
                <th scope="col">copied</th>
              </tr>
            </thead>
            <tbody>
              {s.tables.map((t) => (
                <tr>
                  <td>{t.name}</td>
                  <td>{t.rows}</td>
                  <td>{t.copied}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="hint">
          The migration is driven with <code>agora migrate start|status|verify|cutover|rollback|finish|abort</code> (or
          the <code>/admin/migration</code> routes); README: "Moving to PostgreSQL". <a href="/admin">Reload</a> for the
          latest figures.
        </p>
      </section>
    </Layout>
  );
}
