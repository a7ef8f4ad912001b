/**
 * How a status looks in the monitor: one glyph, one word, one colour. The
 * same set for tasks, MAP items and runs, so a glyph means one thing.
 */
import pc from 'picocolors';
import type { TaskStatus } from '../compiler/index.js';
import type { WorkflowStatus } from '../events/index.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** picocolors with colour on or off (the no-colour mode prints the same text without escape sequences). */
export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

export interface Look { glyph: string; word: string; paint: (s: string) => string }

/** The glyphs, in the order the legend of docs/runs.md ("Watch runs in the terminal") lists them. */
export const GLYPHS = {
  completed: '✓', failed: '✗', running: '●', waiting: '◌', paused: '⏸', pending: '○', skipped: '⤼', retrying: '↻', cancelled: '⊘',
} as const;

/** A task's (or MAP item's) look; a task that would start now but waits for the run's resume shows as paused. */
export function taskLook(status: TaskStatus, run: WorkflowStatus, c: Colors): Look {
  switch (status) {
    case 'COMPLETED': return { glyph: GLYPHS.completed, word: 'completed', paint: c.green };
    case 'FAILED': return { glyph: GLYPHS.failed, word: 'failed', paint: c.red };
    case 'TIMED_OUT': return { glyph: GLYPHS.failed, word: 'timed out', paint: c.red };
    case 'CANCELLED': return { glyph: GLYPHS.cancelled, word: 'cancelled', paint: c.dim };
    case 'IN_PROGRESS': return { glyph: GLYPHS.running, word: 'running', paint: c.cyan };
    case 'RETRYING': return { glyph: GLYPHS.retrying, word: 'retrying', paint: c.yellow };
    case 'PENDING_APPROVAL': return { glyph: GLYPHS.waiting, word: 'awaiting approval', paint: c.magenta };
    case 'WAITING': return { glyph: GLYPHS.waiting, word: 'waiting', paint: c.magenta };
    case 'SKIPPED': return { glyph: GLYPHS.skipped, word: 'skipped', paint: c.dim };
    case 'SCHEDULED': return run === 'PAUSED' ? { glyph: GLYPHS.paused, word: 'paused', paint: c.yellow } : { glyph: GLYPHS.pending, word: 'scheduled', paint: c.dim };
    case 'PENDING': return { glyph: GLYPHS.pending, word: 'pending', paint: c.dim };
  }
}

export function runLook(status: WorkflowStatus, c: Colors): Look {
  switch (status) {
    case 'COMPLETED': return { glyph: GLYPHS.completed, word: 'COMPLETED', paint: c.green };
    case 'FAILED': return { glyph: GLYPHS.failed, word: 'FAILED', paint: c.red };
    case 'CANCELLED': return { glyph: GLYPHS.cancelled, word: 'CANCELLED', paint: c.red };
    case 'RUNNING': return { glyph: GLYPHS.running, word: 'RUNNING', paint: c.cyan };
    case 'WAITING': return { glyph: GLYPHS.waiting, word: 'WAITING', paint: c.magenta };
    case 'PAUSED': return { glyph: GLYPHS.paused, word: 'PAUSED', paint: c.yellow };
    case 'QUEUED': return { glyph: GLYPHS.pending, word: 'QUEUED', paint: c.dim };
    // A damaged log (never a recorded status: the monitor's word for a run nothing drives, query/damage.ts).
    default: return { glyph: GLYPHS.failed, word: 'DAMAGED', paint: c.red };
  }
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
