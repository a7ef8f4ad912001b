/** How a status looks in the monitor: one glyph, word and colour, the same for tasks, MAP items and runs. */
import pc from 'picocolors';
import type { TaskStatus } from '../compiler/index.js';
import type { WorkflowStatus } from '../events/index.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** picocolors with colour on or off (the no-colour mode prints the same text without escape sequences). */
export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

interface Look {
  glyph: string;
  word: string;
  paint: (s: string) => string;
}

/** The glyphs, in the order the legend of docs/runs.md ("Watch runs in the terminal") lists them. */
const GLYPHS = {
  completed: '✓',
  failed: '✗',
  running: '●',
  waiting: '◌',
  paused: '⏸',
  pending: '○',
  skipped: '⤼',
  retrying: '↻',
  cancelled: '⊘',
} as const;

type Glyph = keyof typeof GLYPHS;
type Shade = 'green' | 'red' | 'cyan' | 'yellow' | 'magenta' | 'dim';
const lookOf = (glyph: Glyph, word: string, shade: Shade, c: Colors): Look => ({
  glyph: GLYPHS[glyph],
  word,
  paint: c[shade],
});

const TASK_LOOKS: Record<TaskStatus, [Glyph, string, Shade]> = {
  COMPLETED: ['completed', 'completed', 'green'],
  FAILED: ['failed', 'failed', 'red'],
  TIMED_OUT: ['failed', 'timed out', 'red'],
  CANCELLED: ['cancelled', 'cancelled', 'dim'],
  IN_PROGRESS: ['running', 'running', 'cyan'],
  RETRYING: ['retrying', 'retrying', 'yellow'],
  PENDING_APPROVAL: ['waiting', 'awaiting approval', 'magenta'],
  WAITING: ['waiting', 'waiting', 'magenta'],
  SKIPPED: ['skipped', 'skipped', 'dim'],
  SCHEDULED: ['pending', 'scheduled', 'dim'],
  PENDING: ['pending', 'pending', 'dim'],
};

/** A task's (or MAP item's) look; a task that would start now but waits for the run's resume shows as paused. */
export function taskLook(status: TaskStatus, run: WorkflowStatus, c: Colors): Look {
  return status === 'SCHEDULED' && run === 'PAUSED'
    ? lookOf('paused', 'paused', 'yellow', c)
    : lookOf(...TASK_LOOKS[status], c);
}

const RUN_LOOKS: Record<WorkflowStatus, [Glyph, Shade]> = {
  COMPLETED: ['completed', 'green'],
  FAILED: ['failed', 'red'],
  CANCELLED: ['cancelled', 'red'],
  RUNNING: ['running', 'cyan'],
  WAITING: ['waiting', 'magenta'],
  PAUSED: ['paused', 'yellow'],
  QUEUED: ['pending', 'dim'],
};

export function runLook(status: WorkflowStatus, c: Colors): Look {
  const known = RUN_LOOKS[status];
  // A damaged log (never a recorded status: the monitor's word for a run nothing drives, query/damage.ts).
  return known ? lookOf(known[0], status, known[1], c) : lookOf('failed', 'DAMAGED', 'red', c);
}

/** 450ms, 3.2s, 1m 05s, 2h 03m: short enough for a column. */
export function formatDuration(ms: number): string {
  const d = Math.max(0, Math.round(ms));
  if (d < 1000) return `${d}ms`;
  if (d < 60_000) return `${(d / 1000).toFixed(1)}s`;
  const s = Math.floor(d / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The time of day of an ISO time, UTC (as the log records it): 14:03:07. */
export function timeOfDay(iso: string): string {
  return iso.slice(11, 19);
}
