/**
 * Runs on the embedded store: the in-process Engine's commits, a log cut
 * short refused before anything is written (query/damage.ts), levels judged
 * by what the users file proved.
 */
import { requireAllowed } from '../authority/index.js';
import { recordInput, type InputOutcome, type RunCommits, type RunInput } from '../executor/index.js';
import { LogWitness } from '../query/damage.js';
import type { EventStore } from '../store/index.js';
import type { Acting, Runs } from './port.js';

export interface EmbeddedRunsOptions {
  /** What records the inputs: the Engine (or its RunCommits) over the store. */
  commits: Pick<RunCommits, 'decide' | 'signal' | 'pause' | 'unpause' | 'cancel'>;
  store: EventStore;
  /** The store's directory, where its run index (the witness of logs cut short) lives; default the store's own. */
  storeDir?: string;
  /** Who acts when no name is given. */
  fallback: string;
}

export function embeddedRuns(opts: EmbeddedRunsOptions): Runs {
  const witness = new LogWitness(opts.store, opts.storeDir);
  return {
    store: 'embedded',
    async input(runId: string, input: RunInput, as: Acting): Promise<InputOutcome> {
      if (input.kind === 'control') requireAllowed(as.actor, 'control');
      const seq = await opts.store.lastSeq(runId);
      if (seq > 0) await witness.refuse(runId, seq);
      return recordInput(opts.commits, runId, input, { by: as.name ?? opts.fallback, ...(as.actor ? { level: as.actor.level } : {}) });
    },
  };
}
