/**
 * A child run's start, for both executors (`child.start`: a SUB_WORKFLOW
 * attempt's child, a MAP item run as a workflow, a failed run's failure
 * workflow). The child's run id is fixed by the parent's attempt, so it is
 * started once however often this is asked: a start that finds the run there,
 * or loses the race to record it, takes the run as it is. Then the run under
 * that id must be this attempt's child (child-owner.ts). What keeps it from
 * starting — too deep, no definition, input its definition refuses — is the
 * parent attempt's failure. Where the definition comes from is the executor's
 * (the in-process one looks beside the parent's file, an engine among the
 * deployed ones): `find`.
 */
import { MAX_CHILD_DEPTH } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { AppendConflictError } from '../errors/index.js';
import type { RunSource, TaskError } from '../events/index.js';
import { toTaskError, type Handlers, type StartChild } from '../runtime/index.js';
import { childIdTaken } from './child-owner.js';
import type { RunCommits } from './run-commits.js';

/** A child's definition as found, with what its run.started records of where it came from. */
export interface FoundChild { definition: Definition; source?: Pick<RunSource, 'file' | 'handlers'> }

export interface ChildStartOptions {
  /** How many runs are above the child (its parent's depth + 1). Asked only when the child has not started. */
  depth(): number | Promise<number>;
  /** The child's definition, or why there is none (the parent attempt's error). Asked only when the child has not started. */
  find(): Promise<FoundChild | TaskError>;
  /** The handlers the child's start checks it has (in-process); none on NATS, where workers have them. */
  handlers?: Handlers;
  /** Told when this call recorded the child's start (not when it found the run there, or another recorded it first). */
  onStarted?: () => void;
}

/** Starts the child run if it has not started; null once the run under its id is this attempt's child, else the attempt's error. */
export async function beginChild(commits: RunCommits, effect: StartChild, o: ChildStartOptions): Promise<TaskError | null> {
  const id = effect.childRunId;
  if ((await commits.store.lastSeq(id)) === 0) {
    const depth = await o.depth();
    if (depth > MAX_CHILD_DEPTH) {
      return { code: 'LF_SUBWORKFLOW_CYCLE', retryable: false, message: `workflow ${effect.workflow} would run ${depth} levels below its top-level run (the bound is ${MAX_CHILD_DEPTH}): the sub-workflows call each other in a cycle` };
    }
    const found = await o.find();
    if (!('definition' in found)) return found;
    try {
      await commits.start(found.definition, effect.input, { runId: id, ...(o.handlers ? { handlers: o.handlers } : {}), source: { ...found.source, parent: { ...effect.parent, depth } } });
      o.onStarted?.();
    } catch (err) {
      // Another process or engine recorded it first: it is taken as it is, below.
      if (!(err instanceof AppendConflictError)) return { ...toTaskError(err), retryable: false };
    }
  }
  // The run under the child's id must be this attempt's child: a run started first under that id by anyone else
  // (a caller-chosen id of the same shape) is not adopted, its output not taken for the child's.
  const [first] = await commits.store.read(id, { fromSeq: 1, toSeq: 1 });
  return childIdTaken(first?.type === 'run.started' ? { workflowId: first.workflowId, ...(first.data.source?.parent ? { parent: first.data.source.parent } : {}) } : null, effect);
}
