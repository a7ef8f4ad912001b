/**
 * A start under a caller-chosen run id (Engine.startRun, Engine.run with `runId`): the id and policy checked, then
 * decideStart (executor/caller-ids.ts) says which run id to begin, or which run to return. The begin is exclusive: a
 * start that loses the race at sequence 0 (AppendConflictError), or meets the winner's lease before the winner's append
 * (RunBusyError, file store), returns the winner's run instead of starting another.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Definition, IdReusePolicy } from '../definition/index.js';
import { AppendConflictError, RunBusyError } from '../errors/index.js';
import { checkCallerRunId, checkIdReuse, decideStart, winnerOf, type RunHead } from './caller-ids.js';
import type { EventStore } from '../store/index.js';

/** How long a start that met another start's lease waits for that start's first commit. */
const WINNER_WAIT_MS = 10_000;

export interface CallerIdOptions {
  /** The caller's id: the run's id, or the chain of runs it names (docs/runs.md#caller-chosen-run-ids). */
  runId: string;
  /** Overrides the workflow's `id_reuse:` (default reject_duplicate). */
  idReuse?: IdReusePolicy;
}

export type CallerStart<T> = { begun: T } | { existing: RunHead };

export async function startUnderId<T>(
  store: EventStore,
  def: Definition,
  opts: CallerIdOptions,
  begin: (runId: string) => Promise<T>,
): Promise<CallerStart<T>> {
  const id = checkCallerRunId(opts.runId);
  const policy = checkIdReuse(opts.idReuse) ?? def.idReuse ?? 'reject_duplicate';
  const decision = await decideStart(store, id, def.id, policy);
  if (decision.kind === 'existing') return { existing: decision.head };
  try {
    return { begun: await begin(decision.runId) };
  } catch (err) {
    if (!(err instanceof AppendConflictError || err instanceof RunBusyError)) throw err;
    const winner = await waitForWinner(store, id, decision.runId, def.id);
    if (!winner) throw err;
    return { existing: winner };
  }
}

/** The run another start wrote under `runId`; null when none appeared within WINNER_WAIT_MS (that start failed or hangs). */
async function waitForWinner(
  store: EventStore,
  id: string,
  runId: string,
  workflowId: string,
): Promise<RunHead | null> {
  const until = Date.now() + WINNER_WAIT_MS;
  for (;;) {
    const head = await winnerOf(store, id, runId, workflowId);
    if (head || Date.now() >= until) return head;
    // The winner holds the lease and is between it and its append (milliseconds): look again shortly.
    await sleep(25);
  }
}
