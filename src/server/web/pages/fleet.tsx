/** What fires when (schedules, event triggers), who runs the work (engines, workers, queues on NATS), and what holds it back (circuit breakers). */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { AutoTable } from '../components/auto-table.js';
import { Card, Empty, ErrorBox, Json, Link, Loading, Status, Table, useAction, useData } from '../components/common.js';
import type { BreakerReport, ScheduleRow, TriggerRow } from '../types.js';

export function SchedulesPage() {
  const list = useData(() => api.get<{ schedules: ScheduleRow[] }>('/api/schedules'), []);
  const rows = list.data?.schedules;
  const { busy, error, run } = useAction();
  const [said, setSaid] = useState<string | null>(null);
  // The backfill form of one row (workflow#trigger), open at most one at a time.
  const [filling, setFilling] = useState<{ key: string; from: string; to: string } | null>(null);
  // An operator's hand, as `ledgerflow schedules pause|resume|trigger|backfill`: judged by the signed-in person's level (L1).
  const act = (
    r: ScheduleRow,
    action: 'pause' | 'resume' | 'trigger' | 'backfill',
    body: Record<string, unknown> = {},
  ) => {
    setSaid(null);
    run(async () => {
      const res = await api.post<{ queued?: { runId: string }[]; existing?: number; started?: number }>(
        `/api/schedules/${encodeURIComponent(r.workflowId)}/${action}`,
        { trigger: r.trigger, ...body },
      );
      if (action === 'trigger') setSaid(`Started run ${res.queued?.[0]?.runId ?? ''}`);
      if (action === 'backfill') {
        setSaid(
          `Backfill: ${res.started ?? 0} runs started, ${(res.queued?.length ?? 0) - (res.started ?? 0)} queued, ${res.existing ?? 0} slots had a run already`,
        );
        setFilling(null);
      }
      list.reload();
    });
  };
  // The pause form of one row: its reason, optional.
  const [pausing, setPausing] = useState<{ key: string; reason: string } | null>(null);
  const iso = (local: string) => (local ? new Date(`${local}Z`).toISOString() : '');
  return (
    <div>
      <div class="page-head">
        <h1>Schedules</h1>
        <div class="grow" />
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <p class="muted">
        Each schedule trigger: its cron and zone, the next slots, and the last one fired with its run. Pause, resume,
        trigger one run now or backfill a range (times in UTC) as <span class="mono">ledgerflow schedules</span> does.
      </p>
      <ErrorBox error={list.error ?? error} />
      {said ? (
        <p class="notice" data-said>
          {said}
        </p>
      ) : null}
      {!rows && !list.error ? <Loading /> : null}
      {rows ? (
        <Table
          heads={['Workflow', 'Cron', 'Zone', 'Catch up', 'Next', 'Last fired', 'State', '']}
          rows={rows}
          empty="No schedule triggers in the workflows."
          row={(r) => {
            const key = `${r.workflowId}#${r.trigger}`;
            return (
              <tr key={key} data-schedule={key} data-paused={r.paused ? 'true' : 'false'}>
                <td>
                  <Link href={`/definitions/${encodeURIComponent(r.workflowId)}`}>{r.workflowId}</Link>{' '}
                  <span class="muted small">trigger {r.trigger}</span>
                </td>
                <td class="mono">{r.cron}</td>
                <td>{r.timezone}</td>
                <td>{r.catchUp}</td>
                <td class="small">
                  {r.next.map((n) => (
                    <div key={n.utc} title={n.utc}>
                      {n.local}
                    </div>
                  ))}
                </td>
                <td class="small">
                  {r.last ? (
                    <>
                      <Link class="mono" href={`/runs/${encodeURIComponent(r.last.runId)}`}>
                        {r.last.slot}
                      </Link>{' '}
                      <Status status={r.last.status ?? undefined} />
                    </>
                  ) : (
                    <span class="muted">never{r.through ? '' : ' (no serve or engine has seen it yet)'}</span>
                  )}
                </td>
                <td class="small">
                  {r.paused ? (
                    <span title={r.paused.at}>
                      Paused{r.paused.by ? ` by ${r.paused.by}` : ''}
                      {r.paused.reason ? `: ${r.paused.reason}` : ''}
                    </span>
                  ) : (
                    'Firing'
                  )}
                  {r.queued > 0 ? <div class="muted">{r.queued} queued</div> : null}
                </td>
                <td>
                  {r.paused ? (
                    <button type="button" disabled={busy} onClick={() => act(r, 'resume')}>
                      Resume
                    </button>
                  ) : (
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => setPausing(pausing?.key === key ? null : { key, reason: '' })}
                    >
                      Pause…
                    </button>
                  )}{' '}
                  <button type="button" disabled={busy} onClick={() => act(r, 'trigger')}>
                    Trigger now
                  </button>{' '}
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => setFilling(filling?.key === key ? null : { key, from: '', to: '' })}
                  >
                    Backfill…
                  </button>
                  {pausing?.key === key && !r.paused ? (
                    <form
                      class="pause"
                      onSubmit={(e) => {
                        e.preventDefault();
                        const reason = pausing.reason.trim();
                        setPausing(null);
                        act(r, 'pause', reason ? { reason } : {});
                      }}
                    >
                      <label>
                        Reason{' '}
                        <input
                          type="text"
                          name="reason"
                          placeholder="optional"
                          value={pausing.reason}
                          onInput={(e) => setPausing({ ...pausing, reason: (e.target as HTMLInputElement).value })}
                        />
                      </label>
                      <button type="submit" class="primary" disabled={busy}>
                        Pause the schedule
                      </button>
                    </form>
                  ) : null}
                  {filling?.key === key ? (
                    <form
                      class="backfill"
                      onSubmit={(e) => {
                        e.preventDefault();
                        act(r, 'backfill', { from: iso(filling.from), to: iso(filling.to) });
                      }}
                    >
                      <label>
                        From (UTC){' '}
                        <input
                          type="datetime-local"
                          name="from"
                          required
                          value={filling.from}
                          onInput={(e) => setFilling({ ...filling, from: (e.target as HTMLInputElement).value })}
                        />
                      </label>
                      <label>
                        To (UTC){' '}
                        <input
                          type="datetime-local"
                          name="to"
                          required
                          value={filling.to}
                          onInput={(e) => setFilling({ ...filling, to: (e.target as HTMLInputElement).value })}
                        />
                      </label>
                      <button type="submit" class="primary" disabled={busy}>
                        Start the missing runs
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            );
          }}
        />
      ) : null}
    </div>
  );
}

export function TriggersPage() {
  const list = useData(() => api.get<{ triggers: TriggerRow[] }>('/api/triggers'), []);
  const rows = list.data?.triggers;
  return (
    <div>
      <div class="page-head">
        <h1>Triggers</h1>
        <div class="grow" />
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
        <Link class="button primary" href="/emit">
          Emit an event…
        </Link>
      </div>
      <p class="muted">
        What starts each workflow: the business events it listens for (with their filter) and its schedules.
      </p>
      <ErrorBox error={list.error} />
      {!rows && !list.error ? <Loading /> : null}
      {rows ? (
        <Table
          heads={['Workflow', 'Kind', 'When', 'Filter']}
          rows={rows}
          empty="No triggers in the workflows."
          row={(r) => (
            <tr key={`${r.workflowId}@${r.version}#${r.trigger}`}>
              <td>
                <Link href={`/definitions/${encodeURIComponent(r.workflowId)}`}>{r.workflowId}</Link>
                <span class="muted">@{r.version}</span>
              </td>
              <td>{r.kind}</td>
              <td class="mono">{r.kind === 'event' ? r.event : `${r.cron} (${r.timezone})`}</td>
              <td class="mono small">{r.kind === 'event' ? (r.filter ?? '') : ''}</td>
            </tr>
          )}
        />
      ) : null}
    </div>
  );
}

export function WorkersPage() {
  const data = useData(() => api.get<Record<string, unknown>>('/api/workers'), []);
  const d = data.data;
  const sections = d
    ? (Object.entries(d).filter(([, v]) => Array.isArray(v)) as Array<[string, Array<Record<string, unknown>>]>)
    : [];
  return (
    <div>
      <div class="page-head">
        <h1>Workers and engines</h1>
        <div class="grow" />
        <button type="button" onClick={data.reload}>
          Refresh
        </button>
      </div>
      <p class="muted">
        On NATS: the engines and workers connected now, and each task queue with its backlog. The embedded store runs
        everything in this process.
      </p>
      <ErrorBox error={data.error} />
      {data.loading && !d ? <Loading /> : null}
      {d && sections.length === 0 ? (
        <Card>
          <Json value={d} />
        </Card>
      ) : null}
      {sections.map(([name, rows]) => (
        <Card key={name} title={name[0]!.toUpperCase() + name.slice(1)}>
          {rows.length ? <AutoTable rows={rows} /> : <Empty>none</Empty>}
        </Card>
      ))}
    </div>
  );
}

const STATE_TEXT: Record<BreakerReport['state'], string> = { closed: 'closed', open: 'open', half_open: 'half open' };

/** Every circuit breaker met in the store (docs/limits.md#circuit-breakers) and its state now, as `ledgerflow limits show` prints them. */
export function BreakersPage() {
  const list = useData(() => api.get<{ breakers: BreakerReport[] }>('/api/breakers'), []);
  const rows = list.data?.breakers;
  const { busy, error, run } = useAction();
  const flip = (name: string, to: 'open' | 'close') =>
    run(() => api.post(`/api/breakers/${to}`, { name }).then(() => list.reload()));
  return (
    <div>
      <div class="page-head">
        <h1>Circuit breakers</h1>
        <div class="grow" />
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <p class="muted">
        While a breaker is open its task's, queue's or handler's attempts wait SCHEDULED; once half open one probe
        attempt decides. <span class="mono">ledgerflow breaker open|close &lt;name&gt;</span> for an operator.
      </p>
      <ErrorBox error={list.error ?? error} />
      {!rows && !list.error ? <Loading /> : null}
      {rows ? (
        <Table
          heads={['Breaker', 'State', 'Failures in window', 'Opened', 'Half opens', 'Changed by', '']}
          rows={rows}
          empty="No breaker has counted a failure yet."
          row={(b) => (
            <tr key={b.name} data-breaker={b.name} data-state={b.state}>
              <td class="mono">{b.name}</td>
              <td>{STATE_TEXT[b.state]}</td>
              <td>{b.failures}</td>
              <td class="small">{b.openedAt ?? ''}</td>
              <td class="small">{b.state === 'open' ? (b.until ?? 'when an operator closes it') : ''}</td>
              <td>{b.by ?? ''}</td>
              <td>
                {/* An operator's hand, as `ledgerflow breaker open|close`: judged by the signed-in person's level. */}
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => flip(b.name, b.state === 'closed' ? 'open' : 'close')}
                >
                  {b.state === 'closed' ? 'Open' : 'Close'}
                </button>
              </td>
            </tr>
          )}
        />
      ) : null}
    </div>
  );
}
