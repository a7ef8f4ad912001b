/** What fires when (schedules, event triggers), who runs the work (engines, workers, queues on NATS), and what holds it back (circuit breakers). */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { AutoTable } from '../components/auto-table.js';
import {
  Button,
  Card,
  Empty,
  Form,
  Input,
  Json,
  Link,
  Loaded,
  PageHead,
  Status,
  Table,
  useAction,
  useData,
} from '../components/common.js';
import type { BreakerReport, ScheduleRow, TriggerRow } from '../types.js';

export function SchedulesPage() {
  const list = useData(() => api.get<{ schedules: ScheduleRow[] }>('/api/schedules'), []);
  const { busy, error, said, run } = useAction();
  // The backfill form of one row (workflow#trigger), open at most one at a time.
  const [filling, setFilling] = useState<{ key: string; from: string; to: string } | null>(null);
  // An operator's hand, as `ledgerflow schedules pause|resume|trigger|backfill`: judged by the signed-in person's level (L1).
  const act = (
    r: ScheduleRow,
    action: 'pause' | 'resume' | 'trigger' | 'backfill',
    body: Record<string, unknown> = {},
  ) =>
    run(async () => {
      const res = await api.post<{ queued?: { runId: string }[]; existing?: number; started?: number }>(
        `/api/schedules/${encodeURIComponent(r.workflowId)}/${action}`,
        { trigger: r.trigger, ...body },
      );
      if (action === 'backfill') setFilling(null);
      list.reload();
      return action === 'trigger'
        ? `Started run ${res.queued?.[0]?.runId ?? ''}`
        : action === 'backfill'
          ? `Backfill: ${res.started ?? 0} runs started, ${(res.queued?.length ?? 0) - (res.started ?? 0)} queued, ${res.existing ?? 0} slots had a run already`
          : null;
    });
  // The pause form of one row: its reason, optional.
  const [pausing, setPausing] = useState<{ key: string; reason: string } | null>(null);
  const iso = (local: string) => (local ? new Date(`${local}Z`).toISOString() : '');
  return (
    <div>
      <PageHead title="Schedules" reload={list.reload} />
      <p class="muted">
        Each schedule trigger: its cron and zone, the next slots, and the last one fired with its run. Pause, resume,
        trigger one run now or backfill a range (times in UTC) as <span class="mono">ledgerflow schedules</span> does.
      </p>
      <Loaded data={list} error={error}>
        {({ schedules }) => (
          <>
            {said ? (
              <p class="notice" data-said>
                {said}
              </p>
            ) : null}
            <Table
              heads={['Workflow', 'Cron', 'Zone', 'Catch up', 'Next', 'Last fired', 'State', '']}
              rows={schedules}
              empty="No schedule triggers in the workflows."
              row={(r) => {
                const key = `${r.workflowId}#${r.trigger}`;
                return (
                  <tr key={key} data-schedule={key} data-paused={r.paused ? 'true' : 'false'}>
                    <td>
                      <Link def={r.workflowId} /> <span class="muted small">trigger {r.trigger}</span>
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
                          <Link class="mono" run={r.last.runId}>
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
                        <Button label="Resume" disabled={busy} onClick={() => act(r, 'resume')} />
                      ) : (
                        <Button
                          label="Pause…"
                          disabled={busy}
                          onClick={() => setPausing(pausing?.key === key ? null : { key, reason: '' })}
                        />
                      )}{' '}
                      <Button label="Trigger now" disabled={busy} onClick={() => act(r, 'trigger')} />{' '}
                      <Button
                        label="Backfill…"
                        disabled={busy}
                        onClick={() => setFilling(filling?.key === key ? null : { key, from: '', to: '' })}
                      />
                      {pausing?.key === key && !r.paused ? (
                        <Form
                          class="pause"
                          submit={() => {
                            const reason = pausing.reason.trim();
                            setPausing(null);
                            act(r, 'pause', reason ? { reason } : {});
                          }}
                        >
                          <label>
                            Reason{' '}
                            <Input
                              type="text"
                              name="reason"
                              placeholder="optional"
                              value={pausing.reason}
                              set={(reason) => setPausing({ ...pausing, reason })}
                            />
                          </label>
                          <Button label="Pause the schedule" submit class="primary" disabled={busy} />
                        </Form>
                      ) : null}
                      {filling?.key === key ? (
                        <Form
                          class="backfill"
                          submit={() => act(r, 'backfill', { from: iso(filling.from), to: iso(filling.to) })}
                        >
                          {(['from', 'to'] as const).map((end) => (
                            <label key={end}>
                              {end === 'from' ? 'From' : 'To'} (UTC){' '}
                              <Input
                                type="datetime-local"
                                name={end}
                                required
                                value={filling[end]}
                                set={(v) => setFilling({ ...filling, [end]: v })}
                              />
                            </label>
                          ))}
                          <Button label="Start the missing runs" submit class="primary" disabled={busy} />
                        </Form>
                      ) : null}
                    </td>
                  </tr>
                );
              }}
            />
          </>
        )}
      </Loaded>
    </div>
  );
}

export function TriggersPage() {
  const list = useData(() => api.get<{ triggers: TriggerRow[] }>('/api/triggers'), []);
  return (
    <div>
      <PageHead title="Triggers" reload={list.reload}>
        <Link class="button primary" href="/emit">
          Emit an event…
        </Link>
      </PageHead>
      <p class="muted">
        What starts each workflow: the business events it listens for (with their filter) and its schedules.
      </p>
      <Loaded data={list}>
        {({ triggers }) => (
          <Table
            heads={['Workflow', 'Kind', 'When', 'Filter']}
            rows={triggers}
            empty="No triggers in the workflows."
            row={(r) => (
              <tr key={`${r.workflowId}@${r.version}#${r.trigger}`}>
                <td>
                  <Link def={r.workflowId} />
                  <span class="muted">@{r.version}</span>
                </td>
                <td>{r.kind}</td>
                <td class="mono">{r.kind === 'event' ? r.event : `${r.cron} (${r.timezone})`}</td>
                <td class="mono small">{r.kind === 'event' ? (r.filter ?? '') : ''}</td>
              </tr>
            )}
          />
        )}
      </Loaded>
    </div>
  );
}

export function WorkersPage() {
  const data = useData(() => api.get<Record<string, unknown>>('/api/workers'), []);
  const sections = (d: Record<string, unknown>) =>
    Object.entries(d).filter(([, v]) => Array.isArray(v)) as Array<[string, Array<Record<string, unknown>>]>;
  return (
    <div>
      <PageHead title="Workers and engines" reload={data.reload} />
      <p class="muted">
        On NATS: the engines and workers connected now, and each task queue with its backlog. The embedded store runs
        everything in this process.
      </p>
      <Loaded data={data}>
        {(d) =>
          sections(d).length === 0 ? (
            <Card>
              <Json value={d} />
            </Card>
          ) : (
            sections(d).map(([name, rows]) => (
              <Card key={name} title={name[0]!.toUpperCase() + name.slice(1)}>
                {rows.length ? <AutoTable rows={rows} /> : <Empty>none</Empty>}
              </Card>
            ))
          )
        }
      </Loaded>
    </div>
  );
}

const STATE_TEXT: Record<BreakerReport['state'], string> = { closed: 'closed', open: 'open', half_open: 'half open' };

/** Every circuit breaker met in the store (docs/limits.md#circuit-breakers) and its state now, as `ledgerflow limits show` prints them. */
export function BreakersPage() {
  const list = useData(() => api.get<{ breakers: BreakerReport[] }>('/api/breakers'), []);
  const { busy, error, run } = useAction();
  const flip = (name: string, to: 'open' | 'close') =>
    run(() => api.post(`/api/breakers/${to}`, { name }).then(() => list.reload()));
  return (
    <div>
      <PageHead title="Circuit breakers" reload={list.reload} />
      <p class="muted">
        While a breaker is open its task's, queue's or handler's attempts wait SCHEDULED; once half open one probe
        attempt decides. <span class="mono">ledgerflow breaker open|close &lt;name&gt;</span> for an operator.
      </p>
      <Loaded data={list} error={error}>
        {({ breakers }) => (
          <Table
            heads={['Breaker', 'State', 'Failures in window', 'Opened', 'Half opens', 'Changed by', '']}
            rows={breakers}
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
                  <Button
                    label={b.state === 'closed' ? 'Open' : 'Close'}
                    disabled={busy}
                    onClick={() => flip(b.name, b.state === 'closed' ? 'open' : 'close')}
                  />
                </td>
              </tr>
            )}
          />
        )}
      </Loaded>
    </div>
  );
}
