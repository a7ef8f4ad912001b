/**
 * A run's child runs, for both executors (a SUB_WORKFLOW attempt's child, a MAP item run as a workflow, a failed
 * run's failure workflow): started once, under the id the parent's attempt fixes, however often asked (a start that
 * finds the run there, or loses the race to record it, takes it as it is; a run there that is not this child is left
 * alone, the child started under its spare id: child-owner.ts), and cancelled, under whichever id it took, when that
 * attempt is no longer wanted. What keeps it from starting (too deep, no definition, input refused) is the attempt's
 * failure. The ChildPort is what differs: where a definition is found (beside the parent's file in process, among the
 * deployed ones on NATS) and how a started child goes on (driven here; processed, then left to the engines).
 */
import { MAX_CHILD_DEPTH } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { AppendConflictError } from '../errors/index.js';
import type { RunSource, TaskError } from '../events/index.js';
import { toTaskError, type Handlers, type StartChild } from '../runtime/index.js';
import { childIdTaken, childRunOf, placeChild, type ChildRef } from './child-owner.js';
import type { ChildOutcome } from './child-outcome.js';
import type { RunCommits } from './run-commits.js';

/** A child's definition as found, with what its run.started records of where it came from. */
interface FoundChild {
  definition: Definition;
  source?: Pick<RunSource, 'file' | 'handlers'>;
}

interface ChildStartOptions {
  /** How many runs are above the child (its parent's depth + 1). Asked only when the child has not started. */
  depth(): number | Promise<number>;
  /** The child's definition, or why there is none (the parent attempt's error). Asked only when the child has not started and the effect carries none. */
  find(): Promise<FoundChild | TaskError>;
  /** The handlers the child's start checks it has (in-process); none on NATS, where workers have them. */
  handlers?: Handlers;
  /** Told when this call recorded the child's start (not when it found the run there, or another recorded it first). */
  onStarted?: () => void;
}

/**
 * Starts the child run if it has not started, under the id placeChild gives (its derived id, or its spare one when a
 * run that is not this child holds that: child-owner.ts); the run id it is under once that run is this attempt's
 * child, else the attempt's error.
 */
async function beginChild(
  commits: RunCommits,
  effect: StartChild,
  o: ChildStartOptions,
): Promise<{ runId: string } | { error: TaskError }> {
  let place = await placeChild(commits.store, effect);
  // Twice at most: a start under the derived id that another start took first (a caller's, racing) goes on to the spare.
  let depth: number | undefined;
  let found: FoundChild | TaskError | undefined;
  for (let tries = 0; place.started === null && tries < 2; tries++) {
    depth ??= await o.depth();
    if (depth > MAX_CHILD_DEPTH) {
      return {
        error: {
          code: 'LF_SUBWORKFLOW_CYCLE',
          retryable: false,
          message: `workflow ${effect.workflow} would run ${depth} levels below its top-level run (the bound is ${MAX_CHILD_DEPTH}): the sub-workflows call each other in a cycle`,
        },
      };
    }
    // The built-in failure steps' run carries its definition (runtime/failure-handler.ts): nothing to look up.
    found ??= effect.definition ? { definition: effect.definition } : await o.find();
    if (!('definition' in found)) return { error: found };
    try {
      await commits.start(found.definition, effect.input, {
        runId: place.runId,
        ...(o.handlers ? { handlers: o.handlers } : {}),
        source: { ...found.source, parent: { ...effect.parent, depth } },
      });
      o.onStarted?.();
    } catch (err) {
      // Another process or engine recorded it first: it is taken as it is, if it is this child (below).
      if (!(err instanceof AppendConflictError)) return { error: { ...toTaskError(err), retryable: false } };
    }
    place = await placeChild(commits.store, effect);
  }
  // A run under the spare id that is not this child (only a start of exactly that id, by a program, can put one there).
  const taken = childIdTaken(place, effect);
  return taken ? { error: taken } : { runId: place.runId };
}

/** What a child run is to each executor: where its start is written and its definition found, how it goes on. */
interface ChildPort extends ChildStartOptions {
  readonly commits: RunCommits;
  /** Child `runId` (started, or found there) goes on: its outcome for the parent's attempt, `waiting` while it has none. */
  run(runId: string): Promise<ChildOutcome>;
}

/** Starts `effect`'s child (once) and lets it go on: its outcome, or the attempt's failure when it cannot start. */
export async function startChildRun(port: ChildPort, effect: StartChild): Promise<ChildOutcome> {
  const begun = await beginChild(port.commits, effect, port);
  return 'error' in begun ? { kind: 'failed', error: begun.error } : port.run(begun.runId);
}

/**
 * The start of a SUB_WORKFLOW's child that the attempt does not wait for (`wait: false`): recorded with its parent run
 * and `relation: start`, no task, so the child goes on by itself (driven, served and settled as a top-level run is) and
 * reports nothing back; the attempt's output is `detachedOutput`.
 */
export function detachedEffect(effect: StartChild): StartChild {
  const { runId, workflowId } = effect.parent;
  return { ...effect, parent: { runId, workflowId, relation: 'start' } };
}

/** What a SUB_WORKFLOW with `wait: false` completes with once its child has started: the child's run id and workflow. */
export function detachedOutput(effect: StartChild, runId: string): { runId: string; workflow: string } {
  return { runId, workflow: effect.workflow };
}

/** Cancels `child` wherever it started (its derived id or its spare), `by` its parent's run; never a run that is not it. */
export async function cancelChildRun(
  store: RunCommits['store'],
  child: ChildRef,
  cancel: (runId: string, by: string) => Promise<unknown>,
): Promise<void> {
  const id = await childRunOf(store, child);
  if (id !== null) await cancel(id, `run ${child.parent.runId}`);
}
