/**
 * Child runs (SUB_WORKFLOW, failure_workflow) and EMIT: the names and inputs that make starting them idempotent, worked
 * out from the parent's state alone. Pure: no clock, no randomness (the hash is of the name itself).
 */
import { sha256Hex } from '../digest/index.js';
import { RUN_ID_PATTERN } from '../events/index.js';
import type { InstanceRef } from './instances.js';

/** How deep child runs may nest before a run is taken to be calling itself in a cycle (LF_SUBWORKFLOW_CYCLE). */
export const MAX_CHILD_DEPTH = 16;

/** A run id from parts: joined with `-`, or when longer than a run id may be, a prefix and a hash of the whole. */
function runIdOf(whole: string): string {
  if (RUN_ID_PATTERN.test(whole)) return whole;
  const hash = sha256Hex(whole).slice(0, 24);
  return `${whole.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128 - hash.length - 1)}-${hash}`;
}

/**
 * The run a SUB_WORKFLOW attempt starts: `<runId>-<task>-<attempt>` (with `-i<n>` / `-m<n>` after the task for a loop
 * iteration or a MAP item), so starting it twice starts it once.
 */
export function childRunId(runId: string, ref: InstanceRef, attempt: number): string {
  const instance = `${ref.task}${ref.iteration !== undefined ? `-i${ref.iteration}` : ''}${ref.item !== undefined ? `-m${ref.item}` : ''}`;
  return runIdOf(`${runId}-${instance}-${attempt}`);
}

/**
 * Where a child run (`childRunId`, `failureRunId`: `child`) starts instead when a run that is not this child already
 * holds its id (anyone may choose an id, and a child's is foreseeable): `<child>--0`. No start can take it first: a
 * caller's id may not end in `--<digits>` (kept for an id's reuses, which count from `--2`), a fresh id has a fixed
 * form, and no derived id ends in `--0` (attempts count from 1). Too long for the suffix, it is hashed as a long child
 * id is, to 128 characters: longer than any caller's id. The same on every call, so a re-attach finds the same run.
 */
export function spareChildRunId(child: string): string {
  return runIdOf(`${child}--0`);
}

/** The run a failed run's failure_workflow starts: `<runId>-failure`. */
export function failureRunId(runId: string): string {
  return runIdOf(`${runId}-failure`);
}

/** The id of the event an EMIT attempt emits (`instance`: instanceKey): a re-run of the same attempt emits the same event, which starts nothing twice. */
export function emitEventId(runId: string, instance: string, attempt: number): string {
  return `${runId}/${instance}/${attempt}`;
}
