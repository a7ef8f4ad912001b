/**
 * How a category axis (one bar per workflow) writes its names so they never overlap (pure, unit-tested): level when
 * each fits its slot; else turned 40° (or 90° when slots are very narrow), every k-th name only when even turned ones
 * would touch; names over 24 characters cut with "…".
 */
export const CHAR_PX = 6.6;
const MAX_CHARS = 24;
const LINE_PX = 14;

export interface CategoryAxis {
  labels: string[];
  rotate: number;
  size: number;
}

export function categoryAxis(names: readonly string[], plotWidth: number): CategoryAxis {
  const cut = names.map((n) => (n.length > MAX_CHARS ? `${n.slice(0, MAX_CHARS - 1)}…` : n));
  const slot = plotWidth / Math.max(1, names.length);
  const widest = Math.max(0, ...cut.map((n) => n.length * CHAR_PX));
  if (widest + 8 <= slot) return { labels: cut, rotate: 0, size: 36 };
  // Turned, each name needs about a line's height of its slot (more at 40° than at 90°).
  const rotate = slot >= LINE_PX * 1.6 ? -40 : -90;
  const need = rotate === -40 ? LINE_PX * 1.6 : LINE_PX;
  const every = Math.max(1, Math.ceil(need / slot));
  const labels = cut.map((n, i) => (i % every === 0 ? n : ''));
  const size = Math.ceil(rotate === -40 ? widest * Math.sin((40 * Math.PI) / 180) + 24 : widest + 16);
  return { labels, rotate, size };
}
