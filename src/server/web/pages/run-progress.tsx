/**
 * The run page's progress bars (docs/dashboard.md#the-pages): one per task that reported how far it has come, live from
 * GET /api/runs/:id/progress (server-sent events), with the percentage, the time left at the rate so far and the
 * message; once a task has ended, the last value its outcome kept. Nothing when no task reported any.
 */
import { useEffect, useState } from 'preact/hooks';
import { stream } from '../api.js';
import { Card } from '../components/common.js';
import type { TaskProgress } from '../types.js';

/** `ETA 3m 05s`, `ETA 12s`: the time left until `eta`; `ETA overdue` once it passed while the task is not done (as `status`). */
function etaText(p: TaskProgress & { eta: string }, now: number): string {
  const ms = Date.parse(p.eta) - now;
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0 && p.fraction < 1) return 'ETA overdue';
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `ETA ${s}s`;
  if (s < 3600) return `ETA ${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `ETA ${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function RunProgress(props: { runId: string; initial: Record<string, TaskProgress>; now: number }) {
  const [tasks, setTasks] = useState<Record<string, TaskProgress>>(props.initial);
  useEffect(() => {
    setTasks(props.initial);
    return stream(`/api/runs/${encodeURIComponent(props.runId)}/progress`, {
      progress: (data) => setTasks((data as { tasks: Record<string, TaskProgress> }).tasks),
    });
  }, [props.runId]);
  const rows = Object.entries(tasks);
  if (rows.length === 0) return null;
  return (
    <Card title="Progress" class="progress-card">
      <ul class="progress-list">
        {rows.map(([instance, p]) => {
          const pct = Math.floor(p.fraction * 100);
          return (
            <li
              key={instance}
              data-progress-task={instance}
              data-fraction={p.fraction}
              data-live={p.live ? '' : undefined}
            >
              <span class="mono progress-name">{instance}</span>
              <progress max={1} value={p.fraction} aria-label={`${instance}: ${pct}%`} />
              <span class="progress-pct">{pct}%</span>
              {p.live && p.eta ? (
                <span class="muted progress-eta">{etaText({ ...p, eta: p.eta }, props.now)}</span>
              ) : null}
              {p.message ? <span class="progress-message">{p.message}</span> : null}
            </li>
          );
        })}
      </ul>
    </Card>
  );
}

/** The progress the run's view carries (GET /api/runs/:id), by instance: what the page shows before the stream speaks. */
export function progressInView(
  tasks: Record<
    string,
    { progress?: TaskProgress; instance?: string; items?: { instance: string; progress?: TaskProgress }[] }
  >,
): Record<string, TaskProgress> {
  const out: Record<string, TaskProgress> = {};
  for (const [id, t] of Object.entries(tasks)) {
    if (t.progress) out[t.instance ?? id] = t.progress;
    for (const it of t.items ?? []) if (it.progress) out[it.instance] = it.progress;
  }
  return out;
}
