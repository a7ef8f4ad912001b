/**
 * "Deploy as version N+1": first the replay verdict of the draft over the workflow's recorded runs (POST
 * /api/definitions/verdict: each run takes over, or cannot, at which event and why), then the deploy itself (POST
 * /api/definitions/deploy, as `ledgerflow deploy`), then the migrate action for the runs in flight.
 */
import { useState } from 'preact/hooks';
import type { DeployOutcome as Deployed } from '../../backend.js';
import type { DraftVerdict } from '../../editor.js';
import { api } from '../api.js';
import { Button, ErrorBox, Link, Loading, Table, useAction } from '../components/common.js';
import { MigratePanel } from './migrate-panel.js';

export function DeployPanel(props: {
  text: string;
  workflowId: string;
  version: number;
  latest: number;
  disabled: boolean;
}) {
  const [verdict, setVerdict] = useState<DraftVerdict | null>(null);
  const [deployed, setDeployed] = useState<Deployed | null>(null);
  const { busy, error, run } = useAction();
  // The text the verdict was given for: an edit after it asks for a new one.
  const [judgedText, setJudgedText] = useState<string | null>(null);
  const stale = verdict !== null && judgedText !== props.text;
  const review = () =>
    run(() =>
      api.post<DraftVerdict>('/api/definitions/verdict', { yaml: props.text }).then((v) => {
        setVerdict(v);
        setJudgedText(props.text);
        setDeployed(null);
      }),
    );
  const deploy = () => run(() => api.post<Deployed>('/api/definitions/deploy', { yaml: props.text }).then(setDeployed));
  const stepUp = props.version <= props.latest;
  return (
    <div class="deploy-panel" data-testid="deploy-panel">
      {stepUp ? (
        <p class="warn-text" data-testid="version-taken">
          Version {props.version} is already known (the latest is {props.latest}): deploying other content under it is
          refused. Set <code>version: {props.latest + 1}</code>.
        </p>
      ) : null}
      <Button
        label={`Deploy as version ${props.version}…`}
        class="primary"
        disabled={props.disabled || busy}
        onClick={review}
      />
      <ErrorBox error={error} />
      {busy && !verdict ? <Loading /> : null}
      {verdict && !stale && !deployed ? (
        <div
          class="verdict"
          data-testid="draft-verdict"
          data-takes-over={verdict.takesOver}
          data-cannot={verdict.cannot}
        >
          <p class={verdict.cannot ? 'bad' : 'ok-text'}>
            {verdict.runs === 0
              ? `No recorded runs of ${verdict.workflowId}: nothing to take over.`
              : `${verdict.takesOver} of ${verdict.runs} recorded run(s) replay unchanged under this draft; ${verdict.cannot} cannot.`}
          </p>
          {verdict.rows.length ? (
            <Table
              heads={['Run', 'Its version', 'Status', 'Under the draft']}
              rows={verdict.rows}
              class="compact"
              row={(r) => (
                <tr key={r.runId} data-run={r.runId} data-takes-over={r.takesOver}>
                  <td class="mono">
                    <Link run={r.runId} />
                  </td>
                  <td>{r.version}</td>
                  <td>{r.status}</td>
                  <td class={r.takesOver ? 'ok-text' : 'bad'}>
                    {r.takesOver
                      ? 'takes over'
                      : `cannot: event ${r.divergence?.seq} (${r.divergence?.type}): ${r.divergence?.reason}`}
                  </td>
                </tr>
              )}
            />
          ) : null}
          <Button label={`Deploy version ${props.version}`} class="primary" disabled={busy} onClick={deploy} />
          <Button label="Cancel" onClick={() => setVerdict(null)} />
        </div>
      ) : null}
      {stale && !deployed ? <p class="muted">The draft changed since its verdict: ask again.</p> : null}
      {deployed ? (
        <div data-testid="deployed">
          <p class="ok-text">
            {deployed.queued
              ? `Queued: no engine answered yet; the deploy of ${deployed.workflowId}@${deployed.version} waits for the next engine.`
              : `${deployed.changed === false ? 'Unchanged' : 'Deployed'} ${deployed.workflowId}@${deployed.version}${deployed.hash ? ` (${deployed.hash.slice(0, 12)})` : ''}${deployed.file ? ` to ${deployed.file}` : ''}.`}{' '}
            <Link def={deployed.workflowId}>Open the definition</Link>
          </p>
          {deployed.queued ? null : <MigratePanel workflowId={deployed.workflowId} version={deployed.version} />}
        </div>
      ) : null}
    </div>
  );
}
