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

/** The time left until `eta` from `now`: `ETA 12s`, `ETA 3m 05s`, `ETA 1h 02m`; '' when not known. */
export function etaText(eta: string | undefined, now: number): string {
  if (eta === undefined) return '';
  const left = Math.max(0, Date.parse(eta) - now);
  if (!Number.isFinite(left)) return '';
  const s = Math.ceil(left / 1000);
  if (s < 60) return `ETA ${s}s`;
  if (s < 3600) return `ETA ${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `ETA ${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One line: `████████░░░░░░░░░░░░ 40% ETA 12s  scanned 400 of 1000 files`. A value kept after the attempt ended has
 * no ETA; `width` is the bar's.
 */
export function progressText(p: TaskProgress, now: number, width = 20): string {
  const eta = p.live ? etaText(p.eta, now) : '';
  return [`${progressBar(p.fraction, width)} ${percentText(p.fraction)}`, eta, p.message ? ` ${inert(p.message)}` : '']
    .filter((s) => s !== '')
    .join(' ');
}
