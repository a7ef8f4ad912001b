/**
 * One colour per status, everywhere (badges, graph nodes, plots): green done, red failed, blue running, amber waiting
 * for a person, grey not yet / skipped.
 */
export type Tone = 'ok' | 'bad' | 'run' | 'wait' | 'idle' | 'off';

const TONES: Record<string, Tone> = {
  COMPLETED: 'ok',
  FAILED: 'bad',
  TIMED_OUT: 'bad',
  CORRUPT: 'bad',
  RUNNING: 'run',
  IN_PROGRESS: 'run',
  SCHEDULED: 'run',
  RETRYING: 'run',
  WAITING: 'wait',
  PENDING_APPROVAL: 'wait',
  PAUSED: 'wait',
  PENDING: 'idle',
  QUEUED: 'idle',
  SKIPPED: 'off',
  CANCELLED: 'off',
};

export function toneOf(status: string | undefined): Tone {
  return (status && TONES[status]) || 'idle';
}

/** The fill / stroke colours of each tone (also in app.css as --ok etc.; SVG and uPlot need them in script). */
export const COLOURS: Record<Tone, { fill: string; stroke: string; text: string }> = {
  ok: { fill: '#e6f6ec', stroke: '#1f9d55', text: '#14683a' },
  bad: { fill: '#fdecec', stroke: '#d64545', text: '#9b1c1c' },
  run: { fill: '#e8f0fe', stroke: '#2f6fdf', text: '#1d4ca3' },
  wait: { fill: '#fff5e0', stroke: '#d98e04', text: '#8a5a00' },
  idle: { fill: '#f4f5f7', stroke: '#9aa3b0', text: '#4a5260' },
  off: { fill: '#f4f5f7', stroke: '#c4c9d1', text: '#7b8494' },
};

export const RUN_STATUSES = ['RUNNING', 'WAITING', 'PAUSED', 'QUEUED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export const SETTLED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
