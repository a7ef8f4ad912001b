/**
 * Steering a run: approve / reject a waiting task with a comment, send a signal, pause, resume, cancel, retry from
 * failed. Each is one POST (with the CSRF header); a refusal shows the API's own message. In time travel every control
 * is off (the page shows the past; acting applies to now).
 */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Button, ErrorBox, Form, Input, useAction } from '../components/common.js';
import { parseJson } from '../format.js';
import { navigate } from '../router.js';
import { SETTLED } from '../status.js';
import type { Definition, RunView, Session } from '../types.js';

export function RunActions(props: {
  run: RunView;
  definition?: Definition | null | undefined;
  session: Session;
  waiting: string[];
  travelling?: boolean;
  onBackToLive?: () => void;
  onDone: () => void;
}) {
  const { run } = props;
  const base = `/api/runs/${encodeURIComponent(run.runId)}`;
  const { busy, error, setError, said: notice, run: acting } = useAction();
  const [comment, setComment] = useState('');
  const [signal, setSignal] = useState({ name: '', data: '' });
  const [reason, setReason] = useState('');
  // One shared token (the embedded store without --users): like the CLI's --as, the page says whose decision it
  // records, and says that the name is not checked (whoever holds the token may type any). Named users and NATS
  // users act as themselves: no such field.
  const sharedToken =
    (props.session.identity ?? (props.session.mode === 'nats' ? 'nats' : 'shared-token')) === 'shared-token';
  const [as, setAs] = useState(props.session.user ?? '');
  const asField = sharedToken && as && as !== props.session.user ? { as } : {};
  const approversOf = (task: string): string[] => {
    const def = props.definition?.tasks.find((t) => t.id === task);
    return def?.type === 'HUMAN' ? [...def.approvers] : [];
  };
  /** A decision of a task anyone may decide, under the default name of a shared token: nobody chose that name, so ask first. */
  const confirmDecision = (task: string, decision: 'approve' | 'reject'): boolean => {
    if (!sharedToken || approversOf(task).length > 0 || (as && as !== props.session.user)) return true;
    const who = as || props.session.user || 'the default name';
    return confirm(
      `${decision === 'approve' ? 'Approve' : 'Reject'} ${task} as "${who}"?\n\n${task} names no approvers, so anyone may decide it, and this dashboard's shared token records whatever name is in "as" without checking it. "${who}" is the default, not a name you chose: type your own name in "as" to record who decided.`,
    );
  };
  const decide = (task: string, decision: 'approve' | 'reject') => {
    if (!confirmDecision(task, decision)) return;
    void act(`${task} ${decision === 'approve' ? 'approved' : 'rejected'}`, decision, {
      task,
      ...(comment ? { comment } : {}),
      ...asField,
    });
  };

  const act = (what: string, path: string, body: unknown, after?: (r: unknown) => void) =>
    acting(async () => {
      const r = await api.post<unknown>(`${base}/${path}`, body);
      after?.(r);
      props.onDone();
      return what;
    });
  const settled = SETTLED.has(run.status);
  const canRetry = run.status === 'FAILED' || run.status === 'CANCELLED';

  const sendSignal = () => {
    const data = signal.data.trim()
      ? parseJson(signal.data, 'signal data: not JSON (write a JSON value, e.g. {"ok": true} or "text")')
      : undefined;
    if (data instanceof Error) return setError(data);
    act(`signal ${signal.name} sent`, 'signal', { name: signal.name, ...(data === undefined ? {} : { data }) });
  };

  const travelling = props.travelling === true;
  return (
    <div class={`actions-wrap${travelling ? ' off' : ''}`}>
      {travelling ? (
        <div class="travel-hint muted" role="note">
          Actions are off while the page shows the past:{' '}
          <Button label="return to now" class="link" onClick={() => props.onBackToLive?.()} /> to act on the run.
        </div>
      ) : null}
      {/* A disabled fieldset turns off every control in it, whatever is added later. */}
      <fieldset class="plain" disabled={travelling || busy}>
        {props.waiting.map((task) => (
          <div class="approval card" key={task} data-approval={task}>
            <div>
              <strong>{task}</strong> waits for approval
              <span class="muted">
                {approversOf(task).length ? ` by ${approversOf(task).join(' or ')}` : ' (anyone)'}
              </span>
              .
            </div>
            <Input class="grow" name="comment" placeholder="comment (optional)" value={comment} set={setComment} />
            {sharedToken ? (
              <label
                class="inline"
                title="Anyone holding this dashboard's token may type any name here: it is recorded unchecked. Start the dashboard with --users for people who sign in as themselves."
              >
                as <Input name="as" size={10} value={as} set={setAs} />
              </label>
            ) : null}
            <Button label="Approve" class="ok" onClick={() => decide(task, 'approve')} />
            <Button label="Reject" class="danger" onClick={() => decide(task, 'reject')} />
            {sharedToken ? (
              <div class="as-note muted small" data-testid="shared-token-note">
                Shared token: the name in “as” is not checked — anyone with this dashboard's token may approve as any
                name.
              </div>
            ) : null}
          </div>
        ))}
        <div class="actions">
          {!settled ? (
            <>
              <Input name="reason" placeholder="reason (optional)" value={reason} set={setReason} />
              {run.status === 'PAUSED' ? (
                <Button label="Resume" onClick={() => void act('resumed', 'resume', {})} />
              ) : (
                <Button label="Pause" onClick={() => void act('paused', 'pause', reason ? { reason } : {})} />
              )}
              <Button
                label="Cancel run"
                class="danger"
                confirm={`Cancel run ${run.runId}?`}
                onClick={() => act('cancelled', 'cancel', reason ? { reason } : {})}
              />
              <Form class="signal" submit={sendSignal}>
                <Input
                  name="signal"
                  placeholder="signal name"
                  value={signal.name}
                  set={(name) => setSignal({ ...signal, name })}
                  required
                />
                <Input
                  name="signal-data"
                  placeholder="data (JSON, optional)"
                  value={signal.data}
                  set={(data) => setSignal({ ...signal, data })}
                />
                <Button label="Send signal" submit />
              </Form>
            </>
          ) : null}
          {canRetry ? (
            <Button
              label="Retry from failed"
              class="primary"
              onClick={() =>
                void act('retried', 'retry', {}, (r) => {
                  const id = (r as { runId?: string }).runId;
                  if (id) navigate(`/runs/${encodeURIComponent(id)}`);
                })
              }
            />
          ) : null}
        </div>
      </fieldset>
      {notice ? (
        <div class="notice" role="status">
          {notice}
        </div>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}
