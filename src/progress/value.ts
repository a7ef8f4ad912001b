/**
 * What a progress report is: a fraction made valid (clamped into 0..1; NaN, infinities and non-numbers refused), a
 * message made one short line, and how a live value is keyed and estimated (ETA from the rate so far). Pure.
 */
import { PROGRESS_MESSAGE_MAX, type Progress } from '../events/index.js';

export type { Progress };

/** A live value: the attempt it is of, when that attempt started here (for the rate) and its last report. */
export interface LiveProgress extends Progress {
  runId: string;
  task: string;
  /** The task's instance: its id outside loops and maps, else `task#2`, `task[3]`. */
  instance: string;
  attempt: number;
  /** When the attempt began running in the process that reports (its clock, ISO). */
  startedAt: string;
}

/**
 * The fraction a handler gave, as kept: a number beyond 0..1 is clamped (a count that overshoots its estimate is not an
 * error worth failing a long task for); NaN, ±Infinity and anything not a number give null: nothing is reported.
 */
export function validFraction(fraction: unknown): number | null {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction)) return null;
  return Math.min(1, Math.max(0, fraction));
}

/** A message as kept: text, control characters made spaces, trimmed, at most PROGRESS_MESSAGE_MAX characters; empty: none. */
export function validMessage(message: unknown): string | undefined {
  if (message === undefined || message === null) return undefined;
  const text = String(message)
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim();
  if (text === '') return undefined;
  return text.length > PROGRESS_MESSAGE_MAX ? `${text.slice(0, PROGRESS_MESSAGE_MAX - 1)}…` : text;
}

/**
 * When the attempt will be done at the rate so far (started → now covered `fraction`), as ms from `at`; null when it
 * cannot be told yet (nothing done, or no time passed). 1 (done): 0.
 */
export function etaMs(p: Pick<LiveProgress, 'fraction' | 'at' | 'startedAt'>): number | null {
  if (p.fraction >= 1) return 0;
  const spent = Date.parse(p.at) - Date.parse(p.startedAt);
  if (!(p.fraction > 0) || !(spent > 0)) return null;
  return Math.round((spent * (1 - p.fraction)) / p.fraction);
}

/**
 * A progress line of a COMMAND task's program: `0.4 scanned 400 of 1000` (a fraction, then an optional message), `40%
 * scanned…`, or a JSON object `{"fraction": 0.4, "message": "…"}`. null: not a progress line (ignored).
 */
export function parseProgressLine(line: string): { fraction: number; message?: string } | null {
  const text = line.trim();
  if (text === '') return null;
  if (text.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return null;
    }
    if (typeof value !== 'object' || value === null) return null;
    const o = value as { fraction?: unknown; message?: unknown };
    const fraction = validFraction(o.fraction);
    if (fraction === null) return null;
    const message = validMessage(o.message);
    return message === undefined ? { fraction } : { fraction, message };
  }
  const m = /^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)(%?)(?:\s+(.*))?$/.exec(text);
  if (!m) return null;
  const fraction = validFraction(Number(m[1]) / (m[2] === '%' ? 100 : 1));
  if (fraction === null) return null;
  const message = validMessage(m[3]);
  return message === undefined ? { fraction } : { fraction, message };
}
