/**
 * Steering a run: approve / reject a waiting task with a comment, send a
 * signal, pause, resume, cancel, retry from failed. Each is one POST (with the
 * CSRF header); a refusal shows the API's own message.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorBox } from '../components/common.js';
import { navigate } from '../router.js';
import { SETTLED } from '../status.js';
import type { RunView, Session } from '../types.js';

export function RunActions(props: { run: RunView; session: Session; waiting: string[]; onDone: () => void }) {
  const { run } = props;
  const base = `/api/runs/${encodeURIComponent(run.runId)}`;
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [comment, setComment] = useState('');
  const [signal, setSignal] = useState({ name: '', data: '' });
  const [reason, setReason] = useState('');
  // Embedded store: like the CLI's --as, the page says whose decision it records (the token holder may act for anyone).
  const embedded = props.session.mode !== 'nats';
  const [as, setAs] = useState(props.session.user ?? '');
  const asField = embedded && as && as !== props.session.user ? { as } : {};

  const act = async (what: string, path: string, body: unknown, after?: (r: unknown) => void) => {
    setBusy(true); setError(null); setNotice(null);
    try {
      const r = await api.post<unknown>(`${base}/${path}`, body);
      setNotice(what);
      after?.(r);
      props.onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const settled = SETTLED.has(run.status);
  const canRetry = run.status === 'FAILED' || run.status === 'CANCELLED';

  const sendSignal = (e: Event) => {
    e.preventDefault();
    let data: unknown = undefined;
    if (signal.data.trim()) {
      try { data = JSON.parse(signal.data); } catch { setError(new Error('signal data: not JSON (write a JSON value, e.g. {"ok": true} or "text")')); return; }
    }
    void act(`signal ${signal.name} sent`, 'signal', data === undefined ? { name: signal.name } : { name: signal.name, data });
  };

  return (
    <div class="actions-wrap">
      {props.waiting.map((task) => (
        <div class="approval card" key={task} data-approval={task}>
          <div><strong>{task}</strong> waits for approval.</div>
          <input class="grow" name="comment" placeholder="comment (optional)" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          {embedded ? <label class="inline">as <input name="as" size={10} value={as} onInput={(e) => setAs(e.currentTarget.value)} /></label> : null}
          <button class="ok" disabled={busy} onClick={() => void act(`${task} approved`, 'approve', { task, ...(comment ? { comment } : {}), ...asField })}>Approve</button>
          <button class="danger" disabled={busy} onClick={() => void act(`${task} rejected`, 'reject', { task, ...(comment ? { comment } : {}), ...asField })}>Reject</button>
        </div>
      ))}
      <div class="actions">
        {!settled ? (
          <>
            <input name="reason" placeholder="reason (optional)" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            {run.status === 'PAUSED'
              ? <button disabled={busy} onClick={() => void act('resumed', 'resume', {})}>Resume</button>
              : <button disabled={busy} onClick={() => void act('paused', 'pause', reason ? { reason } : {})}>Pause</button>}
            <button class="danger" disabled={busy} onClick={() => { if (confirm(`Cancel run ${run.runId}?`)) void act('cancelled', 'cancel', reason ? { reason } : {}); }}>Cancel run</button>
            <form class="signal" onSubmit={sendSignal}>
              <input name="signal" placeholder="signal name" value={signal.name} onInput={(e) => setSignal({ ...signal, name: e.currentTarget.value })} required />
              <input name="signal-data" placeholder='data (JSON, optional)' value={signal.data} onInput={(e) => setSignal({ ...signal, data: e.currentTarget.value })} />
              <button type="submit" disabled={busy}>Send signal</button>
            </form>
          </>
        ) : null}
        {canRetry ? (
          <button class="primary" disabled={busy} onClick={() => void act('retried', 'retry', {}, (r) => { const id = (r as { runId?: string }).runId; if (id) navigate(`/runs/${encodeURIComponent(id)}`); })}>Retry from failed</button>
        ) : null}
      </div>
      {notice ? <div class="notice" role="status">{notice}</div> : null}
      <ErrorBox error={error} />
    </div>
  );
}
