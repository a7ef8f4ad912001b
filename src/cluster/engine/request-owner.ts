/**
 * A person's start request names the run it makes: a fresh `runId` its sender chose, a caller id (`start --id`), a
 * retry's new run. A request taken twice (an engine that died after the start) finds its run there and is answered
 * "accepted, existing", as before. A run under that id that this request did not start (another person's, another
 * workflow's, a retry of another run, a child, an event's or a schedule slot's run) is not taken for it: the request is
 * refused (LF_RUN_ID_TAKEN, the embedded store's code for an id that is taken), and that run is neither answered for
 * nor kicked.
 *
 * Who started a run is its run.started's `source.by`, recorded only where the server proves who publishes (it has
 * users): without users the name is a claim, so only the workflow and the kind of start are compared.
 */
import { RunIdTakenError } from '../../errors/index.js';
import type { RunSource } from '../../events/index.js';
import type { EventStore } from '../../store/index.js';

/** The run this request would have started: its workflow, who asked (undefined: not recorded) and, for a retry, the run it retries. */
export interface RequestedRun {
  workflowId?: string;
  by: string | undefined;
  retryOf?: string;
  /** A fork's original run. */
  forkOf?: string;
}

/** Why the run `source` and `workflowId` describe is not the one `want` describes; null when it is. */
export function notRequested(workflowId: string, source: RunSource | undefined, want: RequestedRun): string | null {
  const s = source ?? {};
  if (want.workflowId !== undefined && workflowId !== want.workflowId)
    return `a run of workflow ${workflowId}, not ${want.workflowId}`;
  if (s.parent || s.event !== undefined || s.schedule || s.gate)
    return "a run ledgerflow started (a child, an event's or a schedule slot's run)";
  if (s.retryOf?.runId !== want.retryOf)
    return want.retryOf === undefined ? 'a retry of another run' : `a run that is not a retry of run ${want.retryOf}`;
  if (s.forked?.from !== want.forkOf)
    return want.forkOf === undefined ? 'a fork of another run' : `a run that is not a fork of run ${want.forkOf}`;
  if (s.by !== want.by) return 'a run someone else started';
  return null;
}

/**
 * Whether run `runId` exists and is the one this request started (taken again): false when it has no events,
 * true when it is; throws RunIdTakenError (LF_RUN_ID_TAKEN) when another run holds the id. Reads its first event.
 */
export async function ownExisting(
  store: EventStore,
  runId: string,
  want: RequestedRun & { what: string },
): Promise<boolean> {
  const [first] = await store.read(runId, { toSeq: 1 });
  if (!first) return false;
  const source = first.type === 'run.started' ? first.data.source : undefined;
  const taken = first.type === 'run.started' ? notRequested(first.workflowId, source, want) : 'a run with no start';
  if (!taken) return true;
  // Said without the other person's name or input: the sender learns only that the id is not theirs to take.
  throw new RunIdTakenError(
    runId,
    want.workflowId ?? '',
    first.workflowId,
    `run id ${runId}, named by this ${want.what}, is taken by ${taken}: it is not answered for this request, nor touched; nothing is started (a fresh start gives a new id: \`ledgerflow start\` without --id, or another --id)`,
  );
}
