/**
 * After a deploy, and on a definition's page (its Migrate runs tab): the workflow's unsettled runs judged against the
 * new version (`ledgerflow migrate <id> --to <version> --dry-run`, POST /api/definitions/:id/migrate
 * `{ to, dryRun: true }`), and the button that moves those that can take over (`{ to, confirm: <their count> }`). A
 * server without that route (404) shows nothing.
 */
import type { MigrationRow } from '../../../executor/migrate.js';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { Button, ErrorBox, Link, Loading, Table, useAction } from '../components/common.js';

export interface MigrationReport {
  workflowId: string;
  to: { version: number; hash?: string };
  dryRun: boolean;
  judged: number;
  as_is: number;
  with_map: number;
  cannot: number;
  already: number;
  migrated?: number;
  runs: MigrationRow[];
}

const VERDICT: Record<MigrationRow['verdict'], string> = {
  as_is: 'takes over as is',
  with_map: 'takes over with the task map',
  cannot: 'cannot',
  already: 'already on it',
};

export function MigratePanel(props: { workflowId: string; version: number }) {
  const path = `/api/definitions/${encodeURIComponent(props.workflowId)}/migrate`;
  const [judged, setJudged] = useState<MigrationReport | null>(null);
  const [done, setDone] = useState<MigrationReport | null>(null);
  const [absent, setAbsent] = useState(false);
  const { busy, error, setError, run } = useAction();
  const judge = () =>
    api.post<MigrationReport>(path, { to: props.version, dryRun: true }).then(setJudged, (e: unknown) => {
      // No such route on this server: the migrate action is not offered.
      if (e instanceof ApiError && e.status === 404 && e.code === 'LF_NOT_FOUND') setAbsent(true);
      else setError(e);
    });
  useEffect(() => void judge(), [path, props.version]);
  if (absent) return null;
  const movable = judged ? judged.as_is + judged.with_map : 0;
  // The count the person saw goes as `confirm`: runs that moved meanwhile make it a 409, and they are judged again.
  const migrate = () =>
    run(() =>
      api.post<MigrationReport>(path, { to: props.version, confirm: movable }).then(setDone, (e: unknown) => {
        if (e instanceof ApiError && e.status === 409) void judge();
        throw e;
      }),
    );
  const shown = done ?? judged;
  return (
    <div class="migrate-panel" data-testid="migrate-panel">
      <h3>Runs in flight</h3>
      <ErrorBox error={error} />
      {!shown && !error ? <Loading /> : null}
      {shown ? (
        <>
          <p data-migrate-judged={shown.judged}>
            {shown.judged === 0
              ? 'No unsettled runs of this workflow.'
              : `${shown.judged} unsettled run(s) judged against version ${props.version}: ${shown.as_is} take over as is, ${shown.with_map} with the task map, ${shown.cannot} cannot, ${shown.already} already on it.`}
          </p>
          {shown.runs.length ? (
            <Table
              heads={['Run', 'Status', 'From', 'Verdict']}
              rows={shown.runs}
              class="compact"
              row={(r) => (
                <tr key={r.runId} data-run={r.runId}>
                  <td class="mono">
                    <Link run={r.runId} />
                  </td>
                  <td>{r.status}</td>
                  <td>v{r.from}</td>
                  <td>
                    {VERDICT[r.verdict]}
                    {r.divergence ? `: event ${r.divergence.seq} (${r.divergence.type}): ${r.divergence.reason}` : ''}
                    {r.migrated ? ' → migrated' : ''}
                    {r.refused ? ` (left as it is: ${r.refused.message})` : ''}
                  </td>
                </tr>
              )}
            />
          ) : null}
          {!done && movable > 0 ? (
            <Button
              label={`Migrate ${movable} run(s) to version ${props.version}`}
              class="primary"
              disabled={busy}
              onClick={migrate}
            />
          ) : null}
          {done ? (
            <p class="ok-text" data-testid="migrated">
              Migrated {done.migrated ?? 0} run(s) to version {props.version}.
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
