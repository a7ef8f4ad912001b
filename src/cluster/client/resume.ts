/**
 * Resuming a run over NATS from a process that drives it itself (`ledgerflow
 * resume --nats`): before the run is driven there, the inputs people queued
 * for it and no engine took (approvals, signals, run control) are taken, as an
 * engine would take them (queued-inputs.ts); a paused run is resumed as any
 * run input is (run-inputs.ts: recorded at once when no engine runs and the
 * name is not proven, else by the engines, which then continue it). A people
 * user, who may not read the log, can only ask the engines to resume it.
 */
import { RunNotFoundError, permissionDenied } from '../../errors/index.js';
import type { RunView } from '../../runtime/index.js';
import type { ClusterClient } from './client.js';
import { takeQueuedInputs } from './queued-inputs.js';
import { deliverInput, engineListening, type InputOutcome } from './run-inputs.js';
import { hasUsers } from '../transport/index.js';
import { jetstreamManager } from '../../store/index.js';

/** What the caller does next. */
export type ClusterResume =
  /** Drive the run: it was not paused, or its resume was recorded with no engine to continue it (`resumed`). */
  | { next: 'drive'; resumed: InputOutcome | null }
  /** An engine recorded the resume and continues the run. */
  | { next: 'engines'; outcome: InputOutcome }
  /** The resume is published and no engine answered within `waitMs`: it waits in LF_CONTROL for one. */
  | { next: 'queued'; outcome: InputOutcome; view: RunView }
  /** This connection may not read the log: send the resume as a run input (deliverInput), the engines judge it. */
  | { next: 'ask-engines' };

export interface ClusterResumeOptions {
  /** Who resumes (checked against the URL's user, as every input's sender is). */
  as?: string;
  /** The name when neither the URL nor `as` gives one. */
  fallback: string;
  /** How long to wait for an engine's verdict on the resume. */
  waitMs: number;
  /** What taking the queued inputs says. */
  say: (line: string) => void;
}

export async function resumeOverCluster(client: ClusterClient, url: string, runId: string, opts: ClusterResumeOptions): Promise<ClusterResume> {
  let first: RunView | null;
  try {
    first = await client.status(runId);
  } catch (err) {
    if (permissionDenied(err) === null) throw err;
    return { next: 'ask-engines' };
  }
  if (first === null) throw new RunNotFoundError(runId);
  await client.prepare();
  const jsm = await jetstreamManager(await client.store.connection());
  // With an engine running, it takes what is queued; taking it here too would judge it twice.
  if (!(await engineListening(jsm, 'approval'))) await takeQueuedInputs(client.store, runId, { proven: await hasUsers(url), say: opts.say });
  const view = (await client.status(runId)) as RunView;
  if (view.status !== 'PAUSED') return { next: 'drive', resumed: null };
  const outcome = await deliverInput(client, url, runId, { kind: 'control', action: 'resume' }, { ...(opts.as !== undefined ? { as: opts.as } : {}), fallback: opts.fallback, waitMs: opts.waitMs });
  if (outcome.recorded && outcome.seq !== null && !(await engineListening(jsm, 'control'))) return { next: 'drive', resumed: outcome };
  return outcome.recorded ? { next: 'engines', outcome } : { next: 'queued', outcome, view };
}
