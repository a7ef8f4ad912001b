/**
 * Caller-chosen run ids (`run --id`, Engine.startRun, the HTTP start, `start --id` over NATS): a start that names its
 * run is idempotent. The id names a chain of runs in the store: the first is `<id>`, a reuse that the policy allows
 * after it settled is `<id>--2`, then `<id>--3`, … Each is a run with a log of its own, so an old run's history is
 * never touched, and the next run's id is decided by the chain alone, so two clients that race to start (or reuse) an
 * id both aim at the same run id: the store's append at expected sequence 0 lets one of them write it, and the other
 * reads it.
 */
import { z } from 'zod';
import { ID_REUSE_POLICIES, type IdReusePolicy } from '../definition/index.js';
import { RunIdTakenError, UsageError, clippedValue, quoteValue } from '../errors/index.js';
import { SETTLED_STATUSES, type WorkflowStatus } from '../events/index.js';
import type { EventStore } from '../store/index.js';

/** Room for `--<generation>` within a run id's 128 characters. */
const CALLER_RUN_ID_MAX = 100;
const GENERATION_SUFFIX = /--\d+$/;

const CALLER_ID_FIX = `a run id given to a start has 1-${CALLER_RUN_ID_MAX} characters among A-Z a-z 0-9 _ - and does not end in --<digits> (kept for the runs that reuse an id: <id>--2, <id>--3, …)`;

/**
 * Shapes of run ids ledgerflow derives itself, which a caller may not take first (a real event was dropped as already
 * started, a schedule slot never fired): an event's run `ev-<20 hex>`, a schedule slot's
 * `<workflow>-s<i>-<yyyymmddThhmmssZ>`, a failure workflow's `<run>-failure`. A SUB_WORKFLOW child's
 * `<run>-<task>-<attempt>` has no shape of its own: its starter checks the run it finds is its child, and starts it
 * under its spare id `<child>--0` when it is not (child-owner.ts); GENERATION_SUFFIX keeps that one from every caller.
 */
const DERIVED_SHAPES = [/^ev-[0-9a-f]{20}$/, /-s\d+-\d{8}T\d{6}Z$/, /-failure$/];
const DERIVED_FIX =
  "it has the shape of a run id ledgerflow derives (an event's run ev-<20 hex>, a schedule slot's <workflow>-s<i>-<yyyymmddThhmmssZ>, a failure workflow's <run>-failure), which a caller may not take; choose another";

export const CallerRunIdSchema = z
  .string()
  .regex(new RegExp(`^[A-Za-z0-9_-]{1,${CALLER_RUN_ID_MAX}}$`), { error: CALLER_ID_FIX })
  .refine((id) => !GENERATION_SUFFIX.test(id), { error: CALLER_ID_FIX })
  .refine((id) => !DERIVED_SHAPES.some((shape) => shape.test(id)), { error: DERIVED_FIX });

export const IdReuseSchema = z.enum(ID_REUSE_POLICIES, { error: `expected one of ${ID_REUSE_POLICIES.join(', ')}` });

/** `id` checked at a boundary (library, CLI, HTTP): a UsageError (LF_USAGE) that says what an id may be. */
export function checkCallerRunId(id: unknown, what = 'run id'): string {
  const r = CallerRunIdSchema.safeParse(id);
  if (r.success) return r.data;
  throw new UsageError(`invalid ${what} ${quoteValue(id)}: ${r.error.issues[0]?.message ?? CALLER_ID_FIX}`, {
    runId: clippedValue(id),
  });
}

/** A reuse policy given per start, checked; undefined when none was given. */
export function checkIdReuse(value: unknown, what = 'id reuse policy'): IdReusePolicy | undefined {
  if (value === undefined) return undefined;
  const r = IdReuseSchema.safeParse(value);
  if (r.success) return r.data;
  throw new UsageError(`invalid ${what} ${quoteValue(value)}: expected one of ${ID_REUSE_POLICIES.join(', ')}`, {
    value: clippedValue(value),
  });
}

/** The run id of the `generation`-th run started under caller id `id` (1: `id` itself). */
function generationRunId(id: string, generation: number): string {
  return generation === 1 ? id : `${id}--${generation}`;
}

/** Where a run stands, from its last event (each records the status it led to): no fold. */
export interface RunHead {
  runId: string;
  workflowId: string;
  version: number;
  status: WorkflowStatus;
}

/** The run's head, or null when it has no events. */
async function runHead(store: EventStore, runId: string): Promise<RunHead | null> {
  const last = await store.lastSeq(runId);
  if (last === 0) return null;
  const [event] = await store.read(runId, { fromSeq: last, toSeq: last });
  if (!event) return null;
  return { runId, workflowId: event.workflowId, version: event.version, status: event.state.status };
}

/** What a start under a caller id does: start the run `runId`, or return the run that has it. */
type StartDecision = { kind: 'new'; runId: string } | { kind: 'existing'; head: RunHead };

/**
 * The latest run of the chain `id` names, found in O(log n) reads: the chain
 * has no gaps (a generation is started only once the one before it exists).
 */
async function latestGeneration(store: EventStore, id: string): Promise<number> {
  const exists = async (g: number) => (await store.lastSeq(generationRunId(id, g))) > 0;
  if (!(await exists(1))) return 0;
  let lo = 1;
  let hi = 2;
  while (await exists(hi)) {
    lo = hi;
    hi *= 2;
  }
  // lo exists, hi does not.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Decides a start under caller id `id` for workflow `workflowId` under `policy`. A run of another workflow holding the
 * id is refused (RunIdTakenError): nothing is written.
 */
export async function decideStart(
  store: EventStore,
  id: string,
  workflowId: string,
  policy: IdReusePolicy,
): Promise<StartDecision> {
  const generation = await latestGeneration(store, id);
  if (generation === 0) return { kind: 'new', runId: id };
  const head = await runHead(store, generationRunId(id, generation));
  if (!head) return { kind: 'new', runId: generationRunId(id, generation) };
  if (head.workflowId !== workflowId) throw new RunIdTakenError(id, workflowId, head.workflowId);
  return reusable(head.status, policy)
    ? { kind: 'new', runId: generationRunId(id, generation + 1) }
    : { kind: 'existing', head };
}

/** Whether a start under `policy` may begin a new run after one that stands at `status` (never while it is going). */
function reusable(status: WorkflowStatus, policy: IdReusePolicy): boolean {
  if (!SETTLED_STATUSES.includes(status)) return false;
  if (policy === 'allow') return true;
  return policy === 'allow_after_failure' && status !== 'COMPLETED';
}

/** The run that won a race for `runId` (another writer's start landed first): its head, checked to be of `workflowId`. */
export async function winnerOf(
  store: EventStore,
  id: string,
  runId: string,
  workflowId: string,
): Promise<RunHead | null> {
  const head = await runHead(store, runId);
  if (head && head.workflowId !== workflowId) throw new RunIdTakenError(id, workflowId, head.workflowId);
  return head;
}
