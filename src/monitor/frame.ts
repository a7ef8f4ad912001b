/**
 * The monitor's frame: what `ledgerflow watch` draws on a terminal, from the watched runs and `now`. A pure function of
 * its arguments, so a frame from a recorded history is the frame a user saw at that point.
 */
import cliTruncate from 'cli-truncate';
import { instanceKey, type TaskStatus, type TimerState } from '../compiler/index.js';
import type { TaskDef } from '../definition/index.js';
import { sealedFromText, type TaskProgress, type TaskView } from '../runtime/index.js';
import { inert, progressText } from '../terminal/index.js';
import { colors, formatDuration, runLook, taskLook, timeOfDay, type Colors } from './look.js';
import { eventDetail, eventSubject } from './lines.js';
import type { WatchedRun } from './track.js';

export interface FrameOptions {
  /** The time the frame shows (elapsed times of what is still going on are counted to it). */
  now: number;
  /** Columns: every line is cut to fit (never wrapped). */
  width: number;
  /** Rows: a longer frame is cut, the last line saying how much was left out. Default: no limit. */
  height?: number;
  /** ANSI colours (default true); false gives the same text without escape sequences. */
  color?: boolean;
  /** Events in each run's tail (default 5; 0: none). */
  tail?: number;
  /** A first line above the runs (what is watched, how to stop). */
  title?: string;
}

/** MAP items shown one per line (the ones at work, retrying or failed); the rest are counted. */
const ITEM_LINES = 3;

export function renderFrame(runs: readonly WatchedRun[], opts: FrameOptions): string {
  const c = colors(opts.color ?? true);
  const lines: string[] = opts.title ? [c.bold(inert(opts.title))] : [];
  runs.forEach((run, i) => {
    if (i > 0 || opts.title) lines.push('');
    lines.push(...runBlock(run, opts.now, opts.tail ?? 5, c));
  });
  if (runs.length === 0) lines.push(c.dim('no runs to show yet'));
  let shown = lines;
  if (opts.height !== undefined && lines.length > opts.height) {
    const keep = Math.max(0, opts.height - 1);
    shown = [...lines.slice(0, keep), c.dim(`… ${lines.length - keep} more lines (a taller terminal shows them)`)];
  }
  const width = Math.max(10, opts.width);
  return shown.map((l) => cliTruncate(l, width, { position: 'end' })).join('\n');
}

/** One run: its header, a line per task (and per busy MAP item), its error, the tail of its events. */
export function runBlock(run: WatchedRun, now: number, tail: number, c: Colors): string[] {
  const v = run.view;
  const look = runLook(v.status, c);
  const end = v.completedAt ? Date.parse(v.completedAt) : now;
  const lines = [
    `${look.paint(look.glyph)} ${c.bold(inert(v.runId))}  ${inert(v.workflowId)}@${v.version}  ${look.paint(look.word)}  ${c.dim(formatDuration(end - Date.parse(v.startedAt)))}`,
  ];
  // A loop-body task is named as the instance its state is of (`check#2`); a DO_WHILE by its id (its progress says the iteration).
  const rows = Object.entries(v.tasks).map(([id, t]) => {
    const def = run.tasks.get(id);
    return { id, t, def, name: def?.type === 'DO_WHILE' ? id : (t.instance ?? id) };
  });
  const cellRows: (Row | string)[] = [];
  for (const { id, t, def, name } of rows) {
    cellRows.push(taskRow(name, t, def, run, now, c));
    if (t.items) cellRows.push(...itemRows(id, t, def, run, now, c));
  }
  lines.push(...layout(cellRows, c));
  if (run.damaged) lines.push(`  ${c.red(inert(run.damaged))}`);
  if (run.undriven) lines.push(`  ${c.yellow(inert(run.undriven))}`);
  if (v.sealedFrom) lines.push(`  ${c.yellow(inert(sealedFromText(v.sealedFrom)))}`);
  if (v.error) lines.push(`  ${c.red(`error: ${inert(v.error.message)}`)}`);
  if (tail > 0) {
    const last = run.tail.slice(-tail);
    if (last.length > 0) lines.push(c.dim('  last events'));
    for (const e of last) {
      const subject = eventSubject(e);
      const detail = eventDetail(e);
      lines.push(
        `    ${c.dim(timeOfDay(e.time))}  ${e.type.padEnd(18)}${subject ? ` ${inert(subject)}` : ''}${detail ? c.dim(`  ${inert(detail)}`) : ''}`,
      );
    }
  }
  return lines;
}

type Shown = Pick<TaskView, 'status' | 'attempts' | 'startedAt' | 'completedAt' | 'error'>;

/** A task's (or MAP item's) cells; `indent` 1 for an item under its MAP. Words are plain text, painted when laid out. */
interface Row {
  indent: number;
  glyph: string;
  name: string;
  word: string;
  paint: (s: string) => string;
  progress: string;
  attempts: string;
  time: string;
  detail: string;
}

function taskRow(name: string, t: TaskView, def: TaskDef | undefined, run: WatchedRun, now: number, c: Colors): Row {
  const look = taskLook(t.status, run.view.status, c);
  const reported = run.progress?.get(name);
  const progress = reported
    ? progressCell(reported, now)
    : def?.type === 'MAP' && t.items
      ? `${t.items.filter((it) => it.status === 'COMPLETED').length}/${t.items.length} items`
      : def?.type === 'DO_WHILE' && t.iteration !== undefined
        ? `iteration ${t.iteration}${def.maxIterations ? `/${def.maxIterations}` : ''}`
        : '';
  const attempts =
    def && (def.type === 'SIMPLE' || def.type === 'COMMAND' || def.type === 'HTTP' || def.type === 'SUB_WORKFLOW')
      ? attemptsText(t, def)
      : '';
  const detail = [
    reported?.message ? inert(reported.message) : '',
    detailText(name, t, def, run, now, c),
    t.child && t.status === 'IN_PROGRESS' ? `child run ${inert(t.child)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    indent: 0,
    glyph: look.glyph,
    name: inert(name),
    word: look.word,
    paint: look.paint,
    progress,
    attempts,
    time: timeText(t, now),
    detail,
  };
}

function itemRows(
  id: string,
  t: TaskView,
  def: TaskDef | undefined,
  run: WatchedRun,
  now: number,
  c: Colors,
): (Row | string)[] {
  const busy = (t.items ?? []).filter((it) => !['COMPLETED', 'PENDING', 'SKIPPED', 'CANCELLED'].includes(it.status));
  const body = def?.type === 'MAP' && def.iterator ? (run.tasks.get(def.iterator) ?? def) : def;
  const rows: (Row | string)[] = busy.slice(0, ITEM_LINES).map((it) => {
    const look = taskLook(it.status, run.view.status, c);
    return {
      indent: 1,
      glyph: look.glyph,
      name: inert(it.instance),
      word: look.word,
      paint: look.paint,
      progress: run.progress?.get(it.instance) ? progressCell(run.progress.get(it.instance)!, now) : '',
      attempts: body ? attemptsText(it, body) : '',
      time: timeText(it, now),
      detail: detailText(it.instance, it, undefined, run, now, c),
    };
  });
  if (busy.length > ITEM_LINES)
    rows.push(c.dim(`      … ${busy.length - ITEM_LINES} more items of ${id} at work or failed`));
  return rows;
}

/** Columns as wide as this run's widest cell (names at most 28), so narrow terminals keep the details. */
function layout(rows: readonly (Row | string)[], c: Colors): string[] {
  const cells = rows.filter((r): r is Row => typeof r !== 'string');
  const w = (f: (r: Row) => number) => Math.max(0, ...cells.map(f));
  const name = Math.min(
    28,
    w((r) => r.name.length + 2 * r.indent),
  );
  const word = w((r) => r.word.length);
  const progress = w((r) => r.progress.length);
  const attempts = w((r) => r.attempts.length);
  const time = w((r) => r.time.length);
  const col = (s: string, width: number) => (width === 0 ? '' : `  ${s.padEnd(width)}`);
  return rows.map((r) => {
    if (typeof r === 'string') return r;
    const lead = '  '.repeat(r.indent);
    return `  ${lead}${r.paint(r.glyph)} ${r.name.padEnd(name - lead.length)}  ${r.paint(r.word)}${' '.repeat(word - r.word.length)}${col(r.progress, progress)}${col(r.attempts, attempts)}${time ? `  ${c.dim(r.time.padStart(time))}` : ''}${r.detail ? `  ${r.detail}` : ''}`.trimEnd();
  });
}

/** A reported progress in the progress column: a bar, the percentage, the ETA while it runs (its message goes in the details). */
function progressCell(p: TaskProgress, now: number): string {
  const { message: _message, ...bare } = p;
  return progressText(bare, now, 12);
}

function attemptsText(t: Shown, def: TaskDef): string {
  if (t.attempts === 0) return '';
  const max = def.retry?.maxAttempts ?? 1;
  return max > 1 ? `attempt ${t.attempts}/${max}` : `attempt ${t.attempts}`;
}

/** Duration of what ended; elapsed time of what goes on (counted to now). */
function timeText(t: Shown, now: number): string {
  if (!t.startedAt) return '';
  const end = t.completedAt
    ? Date.parse(t.completedAt)
    : ['IN_PROGRESS', 'PENDING_APPROVAL', 'WAITING', 'RETRYING', 'SCHEDULED'].includes(t.status)
      ? now
      : null;
  return end === null ? '' : formatDuration(end - Date.parse(t.startedAt));
}

/** What the task waits for (who approves, which signal, when a retry or a wait ends), or why it failed. */
function detailText(
  name: string,
  t: Shown & { status: TaskStatus },
  def: TaskDef | undefined,
  run: WatchedRun,
  now: number,
  c: Colors,
): string {
  const timer = (kind: TimerState['kind']) => run.view.timers.find((x) => instanceKey(x) === name && x.kind === kind);
  const dueIn = (x: TimerState | undefined) => (x ? formatDuration(Date.parse(x.dueAt) - now) : '');
  switch (t.status) {
    case 'RETRYING': {
      const b = timer('backoff');
      return [b ? `retry in ${dueIn(b)}` : '', t.error ? c.red(inert(t.error.message)) : '']
        .filter(Boolean)
        .join(' · ');
    }
    case 'FAILED':
    case 'TIMED_OUT':
      return t.error ? c.red(inert(t.error.message)) : '';
    case 'PENDING_APPROVAL': {
      const who = def?.type === 'HUMAN' && def.approvers.length > 0 ? def.approvers.join(', ') : 'anyone';
      const deadline = timer('approval_timeout');
      return c.magenta(`waits for ${inert(who)}${deadline ? ` · deadline in ${dueIn(deadline)}` : ''}`);
    }
    case 'WAITING': {
      const w = timer('wait');
      if (w) return c.magenta(`resumes in ${dueIn(w)}`);
      const signal = def?.type === 'WAIT' && def.event ? def.event : 'a signal';
      const limit = timer('timeout');
      return c.magenta(`waits for signal ${inert(signal)}${limit ? ` · times out in ${dueIn(limit)}` : ''}`);
    }
    case 'IN_PROGRESS':
      return def?.assignedTo ? `assigned to ${inert(def.assignedTo)}` : '';
    // A gated task's attempt (concurrency:, rate_limit:) not let in yet.
    case 'SCHEDULED':
      return 'waitingFor' in t && typeof t.waitingFor === 'string'
        ? c.magenta(`waits for ${/^(queue|handler|a) /.test(t.waitingFor) ? '' : 'its '}${inert(t.waitingFor)}`)
        : '';
    default:
      return '';
  }
}
