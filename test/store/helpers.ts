/**
 * Small builders for store tests: valid envelopes (the stores validate what
 * they write and read, so test data must pass the real schemas). Waiting for
 * asynchronous delivery is test/helpers/wait.ts's waitFor.
 */
import type { EventEnvelope, WorkflowStatus } from '../../src/events/index.js';
import type { AppendResult } from '../../src/store/index.js';

export interface EvOptions {
  workflowId?: string;
  version?: number;
  status?: WorkflowStatus;
  /** ISO time; default derived from seq so histories are deterministic. */
  time?: string;
  /** task.completed output, e.g. to make a line large. */
  output?: unknown;
}

const BASE = Date.UTC(2026, 0, 1, 9, 0, 0);

/** Seq 1 is a run.started; later seqs are task.started (or task.completed when `output` is given). */
export function ev(runId: string, seq: number, o: EvOptions = {}): EventEnvelope {
  const base = {
    runId,
    workflowId: o.workflowId ?? 'wf',
    version: o.version ?? 1,
    seq,
    time: o.time ?? new Date(BASE + seq * 1000).toISOString(),
    state: { status: o.status ?? 'RUNNING', hash: 'x' },
  };
  if (seq === 1) return { ...base, type: 'run.started', data: { definition: {}, definitionHash: 'h', input: {} } };
  if (o.output !== undefined)
    return { ...base, type: 'task.completed', data: { task: 't', attempt: 1, output: o.output } };
  return { ...base, type: 'task.started', data: { task: 't', attempt: seq } };
}

/** Events seq from..to of one run. */
export function evs(runId: string, from: number, to: number, o: EvOptions = {}): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  for (let s = from; s <= to; s++) out.push(ev(runId, s, o));
  return out;
}

/**
 * An append's outcome without its position, which only some stores give and
 * whose value is the store's own: the contract checks it on its own (a
 * positive integer where given, the same for a duplicate as for its original).
 */
export function outcome(r: AppendResult): Omit<AppendResult, 'position'> {
  const { position, ...rest } = r;
  if (position !== undefined && !(Number.isInteger(position) && position > 0))
    throw new Error(`position ${position} is not a positive integer`);
  return rest;
}
