/**
 * An event's, a gate's or a schedule slot's run has a derived run id (`ev-<hash>`, `<wf>-s<i>-<stamp>`): a second
 * delivery finds the run there and starts nothing. A run under that id that this starter did not start (another
 * workflow's, or one started by another event or slot: a caller id of the same shape, written by another ledgerflow
 * version) must not be taken for it (a real event was dropped as already started, a slot never fired). Callers ids of
 * these shapes are refused (caller-ids.ts); this is the check at the starter, on both executors.
 */
import { RunIdTakenError } from '../errors/index.js';
import type { RunSource } from '../events/index.js';
import type { EventStore } from '../store/index.js';

/** What a run's run.started says of it, as far as this check needs. */
interface StartedRun {
  workflowId: string;
  source?: RunSource;
}

/** What the run under the id is when it is not the run this starter would have started; null when it is. */
function startedByOther(started: StartedRun, workflowId: string, source: RunSource): string | null {
  const theirs = started.source ?? {};
  const same =
    started.workflowId === workflowId &&
    theirs.event === source.event &&
    // A slot is its trigger and time (what it missed may be counted differently by two engines that raced for it).
    theirs.schedule?.trigger === source.schedule?.trigger &&
    theirs.schedule?.slot === source.schedule?.slot &&
    (source.gate === undefined ||
      (theirs.gate?.kind === source.gate.kind &&
        theirs.gate.trigger === source.gate.trigger &&
        theirs.gate.key === source.gate.key));
  if (same) return null;
  const by =
    theirs.event !== undefined
      ? `event ${theirs.event}`
      : theirs.schedule !== undefined
        ? 'another schedule slot'
        : theirs.parent
          ? `run ${theirs.parent.runId}`
          : 'a caller';
  return `a run of workflow ${started.workflowId} started by ${by}`;
}

/**
 * For a starter that found run `runId` there already (a duplicate): returns when that run is the one it starts
 * (its workflow and source), else throws RunIdTakenError (LF_RUN_ID_TAKEN), and the run is not adopted.
 */
export async function assertOwnStart(
  store: EventStore,
  runId: string,
  workflowId: string,
  source: RunSource,
): Promise<void> {
  const [first] = await store.read(runId, { toSeq: 1 });
  if (first?.type !== 'run.started') return;
  const taken = startedByOther(
    { workflowId: first.workflowId, ...(first.data.source ? { source: first.data.source } : {}) },
    workflowId,
    source,
  );
  if (!taken) return;
  const whose =
    source.event !== undefined
      ? `event ${source.event}'s`
      : source.schedule !== undefined
        ? `schedule slot ${source.schedule.slot}'s`
        : "trigger's";
  throw new RunIdTakenError(
    runId,
    workflowId,
    first.workflowId,
    `run id ${runId}, the id of ${whose} run of ${workflowId}, is taken by ${taken}: it is not adopted and nothing is started (cancel or remove that run: a schedule tries the slot again, an event starts it when sent again)`,
  );
}
