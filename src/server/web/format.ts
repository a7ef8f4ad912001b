/** How times, durations and values read on the page (pure). */
import { SETTLED } from './status.js';

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Milliseconds between two ISO times; up to `now` when the end is missing. */
export function between(
  start: string | null | undefined,
  end: string | null | undefined,
  now = Date.now(),
): number | null {
  if (!start) return null;
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  return Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
}

/**
 * A run's duration as every page writes it, from the run's own times: settled, from its start to its end; otherwise
 * (running, waiting for a person, paused, queued) from its start to `now`, marked "so far". The runs list and the run
 * page both call this with the same run, so they show the same figure at the same time.
 */
export function runDuration(
  run: { status: string; startedAt: string | null | undefined; completedAt: string | null | undefined },
  now = Date.now(),
): string {
  const settled = SETTLED.has(run.status);
  const text = duration(between(run.startedAt, settled ? run.completedAt : null, now));
  return settled || text === '—' ? text : `${text} so far`;
}

/** `2026-03-01 14:05:09` in the viewer's zone; the ISO text is the element's title. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** JSON as indented text for a <pre>; undefined as an em dash. */
export function json(value: unknown): string {
  if (value === undefined) return '—';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The trigger column: the event (type and id), the schedule slot, the parent or retried run, or manual. */
export function triggerText(
  t:
    | { kind: string; type?: string | null; id?: string | null; slot?: string; runId?: string; relation?: string }
    | undefined,
): string {
  if (!t) return 'manual';
  switch (t.kind) {
    case 'event':
      return `event ${t.type ?? ''}${t.id ? ` (${t.id})` : ''}`;
    case 'schedule':
      return `schedule ${t.slot ?? ''}`;
    case 'parent':
      return `${t.relation === 'failure' ? 'failure of' : 'child of'} ${t.runId ?? ''}`;
    case 'retry':
      return `retry of ${t.runId ?? ''}`;
    default:
      return 'manual';
  }
}

/** `text` parsed as JSON, else an Error saying `problem` (for the page to show). */
export function parseJson(text: string, problem: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new Error(problem);
  }
}

/** Bytes as the CLI says them: `5.3 MiB`. */
export function sizeText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}
