/**
 * Runs on the embedded store: the in-process Engine's commits, a log cut short refused before anything is written
 * (query/damage.ts), levels judged by what the users file proved.
 */
import { SETTLED_STATUSES } from '../events/index.js';
import { requireAllowed } from '../authority/index.js';
import { recordInput, type InputOutcome, type RunInput } from '../executor/index.js';
import type { Engine } from '../local/index.js';
import { DataKeyError, UsageError } from '../errors/index.js';
import { readWithoutKey } from '../encryption/index.js';
import { LogWitness } from '../query/damage.js';
import type { EventStore } from '../store/index.js';
import { runReads } from './reads.js';
import { runUpkeep } from './upkeep.js';
import type { ProgressChannel } from '../progress/index.js';
import type { Acting, Forked, ForkRequest, Resumed, Retried, Started, StartingRuns, StartRequest } from './port.js';

export interface EmbeddedRunsOptions {
  /** The in-process Engine over the store: it records the starts and inputs. */
  engine: Pick<Engine, 'commits' | 'start' | 'startRun' | 'status' | 'retry' | 'fork'> & { progress?: ProgressChannel };
  store: EventStore;
  /** The store's directory, where its run index (the witness of logs cut short) lives; default the store's own. */
  storeDir?: string;
  /** Who acts when no name is given. */
  fallback: string;
  /** The store's live progress channel (default: the files under storeDir). */
  progress?: ProgressChannel;
}

export function embeddedRuns(opts: EmbeddedRunsOptions): StartingRuns {
  const witness = new LogWitness(opts.store, opts.storeDir);
  const { engine } = opts;
  async function input(runId: string, input: RunInput, as: Acting): Promise<InputOutcome> {
    if (input.kind === 'control') requireAllowed(as.actor, 'control');
    const seq = await opts.store.lastSeq(runId);
    if (seq > 0) await witness.refuse(runId, seq);
    const outcome = await recordInput(engine.commits, runId, input, {
      by: as.name ?? opts.fallback,
      ...(as.actor ? { level: as.actor.level } : {}),
    });
    // A run this settled (a cancel): what its attempts left of live progress goes (one killed mid-report left one).
    const progress = opts.progress ?? engine.progress;
    if (outcome.changed && outcome.status && SETTLED_STATUSES.includes(outcome.status))
      await progress?.sweep?.(runId).catch(() => undefined);
    return outcome;
  }
  return {
    store: 'embedded',
    ...runReads(opts.store, opts.storeDir, opts.progress ?? engine.progress),
    ...runUpkeep(opts.store),
    start: (req: StartRequest, as: Acting) => startHere(engine, req, as, opts.fallback),
    input,
    async resume(runId: string, as: () => Promise<Acting>): Promise<Resumed> {
      // Driving a run that is not paused (after a crash, say) asks no level: whoever can open the store runs its work.
      const status = (await engine.status(runId)).status;
      // Read as `[encrypted]`: it would go on from values it cannot see (docs/security.md), even with nothing due yet.
      if (readWithoutKey(opts.store, runId))
        throw new DataKeyError(
          'LF_DATA_KEY_MISSING',
          `run ${runId} holds encrypted values and this process has no data key: set LF_DATA_KEY (docs/security.md) to drive it`,
          { runId },
        );
      if (status !== 'PAUSED') return { next: 'drive', resumed: null };
      const o = await input(runId, { kind: 'control', action: 'resume' }, await as());
      return { next: 'drive', resumed: o.changed ? o : null };
    },
    async retry(runId: string, as: Acting, how: { runId?: string } = {}): Promise<Retried> {
      requireAllowed(as.actor, 'control');
      return {
        runId: await engine.retry(runId, {
          ...(as.name !== undefined ? { by: as.name } : {}),
          ...(how.runId !== undefined ? { runId: how.runId } : {}),
        }),
      };
    },
    async fork(runId: string, req: ForkRequest, as: Acting): Promise<Forked> {
      requireAllowed(as.actor, 'control');
      const def = req.definition;
      if (typeof def === 'string')
        throw new UsageError(
          `${def}: the embedded store forks under a definition file, not a deployed workflow by name`,
          {
            workflow: def,
          },
        );
      const newRunId = await engine.fork(runId, {
        ...(as.actor ? { by: as.name ?? opts.fallback } : {}),
        ...(req.runId !== undefined ? { runId: req.runId } : {}),
        ...(req.handlers ? { handlers: req.handlers } : {}),
        fork: {
          at: req.at,
          by: as.name ?? opts.fallback,
          ...(req.input ? { input: req.input } : {}),
          ...(req.inputFromStrings ? { inputFromStrings: true } : {}),
          ...(def ? { definition: def, ...(req.source ? { source: req.source } : {}) } : {}),
        },
      });
      if (!req.reset) return { runId: newRunId, from: runId };
      const cancelled = await input(
        runId,
        { kind: 'control', action: 'cancel', reason: `reset to fork ${newRunId}` },
        as,
      );
      return { runId: newRunId, from: runId, cancelled };
    },
  };
}

/** A start judged (L1, or L2 in the workflow's domain) and recorded, with who asked where a users file proved it. */
async function startHere(
  engine: Pick<Engine, 'start' | 'startRun' | 'status'>,
  req: StartRequest,
  as: Acting,
  fallback: string,
): Promise<Started> {
  const d = req.definition;
  if (typeof d === 'string')
    throw new UsageError(`${d}: the embedded store starts a definition, not a deployed workflow by name`, {
      workflow: d,
    });
  requireAllowed(as.actor, 'start', { workflowId: d.id, ...(d.domain ? { domain: d.domain } : {}) });
  // Who started it, where a users file proved who asks (a WAIT without from: takes its signal from them too).
  const by = as.actor ? { by: as.name ?? fallback } : {};
  const source = req.source || as.actor ? { source: { ...req.source, ...by } } : {};
  const how = {
    ...source,
    ...(req.priority !== undefined ? { priority: req.priority } : {}),
    ...(req.inputFromStrings ? { inputFromStrings: true } : {}),
  };
  if (req.runId !== undefined)
    return engine.startRun(d, req.input, {
      ...how,
      runId: req.runId,
      ...(req.idReuse ? { idReuse: req.idReuse } : {}),
    });
  const runId = await engine.start(d, req.input, how);
  return { runId, workflowId: d.id, version: d.version, status: (await engine.status(runId)).status, existing: false };
}
