/**
 * Which fields of which events are payloads (sealed at rest), and what stays clear: ids, statuses, task names, times,
 * who did what, the definition. `value`: any JSON (sealed to `{ "lf:enc": … }`, which every such field's schema takes);
 * `text`: a string the schema wants a string (sealed to `lf:enc:…`). A field that is absent stays absent.
 */
import type { EventEnvelope, EventType } from '../events/index.js';

export type FieldKind = 'value' | 'text';
export interface PayloadField {
  readonly path: readonly string[];
  readonly kind: FieldKind;
  /** The field's name in the additional data and in messages: `data.output`. */
  readonly label: string;
}

const f = (kind: FieldKind, ...path: string[]): PayloadField => ({ path, kind, label: path.join('.') });

export const PAYLOAD_FIELDS: Partial<Record<EventType, readonly PayloadField[]>> = {
  'run.started': [
    f('value', 'data', 'input'),
    f('value', 'data', 'source', 'retryOf', 'outputs'),
    f('value', 'data', 'source', 'forked', 'outputs'),
  ],
  'task.completed': [f('value', 'data', 'output'), f('text', 'data', 'progress', 'message')],
  'task.failed': [f('text', 'data', 'error', 'message'), f('text', 'data', 'progress', 'message')],
  'run.failed': [f('text', 'data', 'error', 'message')],
  'signal.received': [f('value', 'data', 'data')],
  'approval.recorded': [f('text', 'data', 'comment')],
  'approval.refused': [f('text', 'data', 'comment')],
  'run.cancelled': [f('text', 'data', 'reason')],
  'run.paused': [f('text', 'data', 'reason')],
  'run.migrated': [f('value', 'data', 'fold', 'context')],
};

/** The value at `path`, or undefined. */
export function getAt(ev: EventEnvelope, path: readonly string[]): unknown {
  let v: unknown = ev;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A copy of `ev` with `value` at `path`; every object on the way copied, nothing of `ev` changed (callers keep theirs). */
export function setAt(ev: EventEnvelope, path: readonly string[], value: unknown): EventEnvelope {
  const put = (o: Record<string, unknown>, i: number): Record<string, unknown> => {
    const k = path[i]!;
    if (i === path.length - 1) return { ...o, [k]: value };
    return { ...o, [k]: put(o[k] as Record<string, unknown>, i + 1) };
  };
  return put(ev as unknown as Record<string, unknown>, 0) as unknown as EventEnvelope;
}

/** Binds a sealed field to its run, event and field: a sealed value moved elsewhere does not open. */
export const aadOf = (ev: EventEnvelope, field: PayloadField): string => `${ev.runId}\n${ev.seq}\n${field.label}`;
