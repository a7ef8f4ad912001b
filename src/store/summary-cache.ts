/**
 * A run's summary (its first and last events: store/file.ts `summary`), kept with the file's identity when it was read:
 * inode, size, change and modify times. A run's log only grows (appends) or is rewritten (a repaired torn tail), and
 * either changes that identity, so a summary whose file still stats the same is the file's summary: one stat instead of
 * an open, a read of both ends and a close. Admission (limits/admission.ts) reads every unsettled run of a workflow for
 * each decision, and a burst of starts leaves hundreds QUEUED, unchanged between decisions. The stat key is taken
 * before the read, so a summary is never older than the identity it is kept under. Warm, cleared or off, every summary
 * is the same (test/caches.test.ts).
 */
import type { BigIntStats } from 'node:fs';
import type { RunSummary } from './port.js';

const MAX = 20_000;
let enabled = true;
interface Kept {
  ino: bigint;
  size: bigint;
  mtime: bigint;
  ctime: bigint;
  summary: RunSummary;
}
const kept = new Map<string, Kept>();

const same = (k: Kept, st: BigIntStats) =>
  k.ino === st.ino && k.size === st.size && k.mtime === st.mtimeNs && k.ctime === st.ctimeNs;

/** The summary kept for `path` when the file still stats as `st` (a copy), else undefined. */
export function keptSummary(path: string, st: BigIntStats): RunSummary | undefined {
  if (!enabled) return undefined;
  const k = kept.get(path);
  return k && same(k, st) ? { ...k.summary } : undefined;
}

/** Keeps `summary`, read after `st` was taken, for `path`. */
export function keepSummary(path: string, st: BigIntStats, summary: RunSummary): void {
  if (!enabled) return;
  if (kept.size >= MAX) kept.clear();
  kept.set(path, { ino: st.ino, size: st.size, mtime: st.mtimeNs, ctime: st.ctimeNs, summary: { ...summary } });
}

export function clearSummaryCache(): void {
  kept.clear();
}

export function setSummaryCacheEnabled(on: boolean): void {
  enabled = on;
  kept.clear();
}
