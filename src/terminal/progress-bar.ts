/**
 * A task's progress as text (`status`, `watch`): a bar, the percentage, the time left at the rate so far, the
 * message. Pure: the time is given, the message made inert.
 */
import type { TaskProgress } from '../runtime/index.js';
import { inert } from './inert.js';

const FULL = '█';
const EMPTY = '░';

/** A bar of `width` cells, `fraction` of them full (rounded down: 99.9% is not shown done). */
export function progressBar(fraction: number, width = 20): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.floor(f * width);
  return `${FULL.repeat(full)}${EMPTY.repeat(width - full)}`;
}

/** 40% (whole percent, rounded down, so 100% means done). */
export function percentText(fraction: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/**
 * What is left at `now` of a live value's estimate: ms until `eta` (the end at the rate from the attempt's start to its
 * last report), counting down while the task is quiet; `'overdue'` once `now` has reached it and the task is not done
 * (a task at 40% that went quiet is not about to finish, whatever the estimate said); null when nothing is estimated.
 * Pure: `now` is given.
 */
export function etaLeft(p: { fraction: number; eta?: string | undefined }, now: number): number | 'overdue' | null {
  if (p.eta === undefined) return null;
  const left = Date.parse(p.eta) - now;
  if (!Number.isFinite(left)) return null;
  if (left > 0) return left;
  return p.fraction >= 1 ? 0 : 'overdue';
}

/** `12s`, `3m 05s`, `1h 02m`: a time left, rounded up to the second. */
export function leftText(ms: number): string {
  const s = Math.ceil(Math.max(0, ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The time left of a live value at `now`: `ETA 12s`, `ETA 3m 05s`, `ETA 1h 02m`; `ETA overdue` once its estimate has
 * passed while the task is not done (never a finished-sounding `ETA 0s` at 40%); '' when not known.
 */
export function etaText(p: { fraction: number; eta?: string | undefined }, now: number): string {
  const left = etaLeft(p, now);
  if (left === null) return '';
  return left === 'overdue' ? 'ETA overdue' : `ETA ${leftText(left)}`;
}

/**
 * One line: `████████░░░░░░░░░░░░ 40% ETA 12s  scanned 400 of 1000 files`. A value kept after the attempt ended has
 * no ETA; `width` is the bar's.
 */
export function progressText(p: TaskProgress, now: number, width = 20): string {
  const eta = p.live ? etaText(p, now) : '';
  return [`${progressBar(p.fraction, width)} ${percentText(p.fraction)}`, eta, p.message ? ` ${inert(p.message)}` : '']
    .filter((s) => s !== '')
    .join(' ');
}
