/**
 * The child runs of a run an Engine drives here: the executor of its SUB_WORKFLOW and MAP-workflow children and its
 * EMITs (child-runs.ts), and, for a run resumed from its log, which children of its attempts in flight were started
 * already, and the failure workflow run a FAILED run has yet to start. Apart from engine.ts, the Engine's public face.
 */
import { childRunId, instanceFields, type CompiledWorkflow } from '../compiler/index.js';
import type { RunSource } from '../events/index.js';
import { childRunOf, placeChild, type RunCommits } from '../executor/index.js';
import { failureChild, heldBy, type RunSnapshot, type RunView } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { ChildRuns, type ChildEngine, type ChildResolver, type EventEmitter } from './child-runs.js';
import type { DriveOptions } from './engine-options.js';

/** What of the Engine its children's executor uses: where a child's start is written, and driving and cancelling runs. */
export interface ChildRunsHost {
  readonly commits: RunCommits;
  drive(runId: string, opts: DriveOptions): Promise<RunView>;
  cancel: ChildEngine['cancel'];
}

/**
 * The attempts in flight whose child run (by its id: compiler's childRunId, or its spare id when a run that is not
 * the child took that: executor/child-owner.ts) is in the store: a SUB_WORKFLOW's or a MAP item's started before
 * the process driving the parent was lost. The driver re-attaches to them.
 */
export async function childRunsStartedIn(store: EventStore, snapshot: RunSnapshot): Promise<Set<string>> {
  const started = new Set<string>();
  const runId = snapshot.context.runId;
  for (const [key, { attempt, ref }] of heldBy(snapshot).attempts) {
    const child = {
      childRunId: childRunId(runId, ref, attempt),
      parent: { runId, task: ref.task, ...instanceFields(ref), attempt },
    };
    if ((await childRunOf(store, child)) !== null) started.add(key);
  }
  return started;
}

/** The executor of a driven run's child runs and EMITs: on this store, with the run's handlers, children looked for beside its file. */
export function childRunsFor(
  host: ChildRunsHost,
  resolveChild: ChildResolver | undefined,
  emitEvent: EventEmitter | undefined,
  opts: DriveOptions,
  source: RunSource | undefined,
): ChildRuns {
  const engine: ChildEngine = {
    commits: host.commits,
    drive: (runId, o) =>
      host.drive(runId, {
        ...o,
        ...(opts.commitWindowMs !== undefined ? { commitWindowMs: opts.commitWindowMs } : {}),
        ...(opts.follow !== undefined ? { follow: opts.follow } : {}),
        ...(opts.untilSettled ? { untilSettled: true } : {}),
        ...(opts.drain ? { drain: opts.drain } : {}),
        ...(opts.releaseOnStop ? { releaseOnStop: true } : {}),
        ...(opts.skills ? { skills: opts.skills } : {}),
        ...(opts.beforeLeaseRelease ? { beforeLeaseRelease: opts.beforeLeaseRelease } : {}),
      }),
    cancel: (runId, o) => host.cancel(runId, o),
  };
  return new ChildRuns({
    // A child resumed on its own still counts the runs above it (recorded in its run.started).
    engine,
    handlers: opts.handlers,
    depth: opts.depth ?? source?.parent?.depth ?? (source?.parent ? 1 : 0),
    ...(resolveChild ? { resolveChild } : {}),
    ...(emitEvent ? { emitEvent } : {}),
    ...(source?.file ? { parentFile: source.file } : {}),
    ...(opts.maxTimerWaitMs !== undefined ? { maxTimerWaitMs: opts.maxTimerWaitMs } : {}),
  });
}

/** The failure workflow run a FAILED run should have started but has not (Engine.pendingFailureRun); null for any other. */
export async function pendingFailureRunIn(
  store: EventStore,
  loaded: { compiled: CompiledWorkflow; snapshot: RunSnapshot },
): Promise<{ runId: string; workflow: string } | null> {
  const failure = failureChild(loaded.compiled, loaded.snapshot);
  if (!failure) return null;
  // Under its spare id when a run that is not it holds `<runId>-failure` (executor/child-owner.ts).
  const place = await placeChild(store, failure);
  return place.started ? null : { runId: place.runId, workflow: failure.workflow };
}
