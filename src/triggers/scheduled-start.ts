/**
 * Starting a slot's run: what the Scheduler hands its `start` (ScheduledStart) and the embedded store's starter
 * (engineStarter). Apart from scheduler.ts so the firing logic reads on its own.
 */
import type { Definition, JsonValue, ScheduleTrigger } from '../definition/index.js';
import { AppendConflictError } from '../errors/index.js';
import type { RunSource } from '../events/index.js';
import type { Engine } from '../local/index.js';
import { assertOwnStart } from '../executor/index.js';

/** One run to start for a slot. */
export interface ScheduledStart {
  definition: Definition;
  trigger: ScheduleTrigger;
  triggerIndex: number;
  runId: string;
  slot: string;
  /** The trigger's input, templates resolved (not yet checked against the declared inputs: start does). */
  input: Record<string, JsonValue>;
  /** To record in run.started (`source.schedule`). */
  schedule: NonNullable<RunSource['schedule']>;
}

/** Starts the run (recording run.started under `runId`); `duplicate` when it had started already. */
export type StartScheduled = (start: ScheduledStart) => Promise<{ duplicate: boolean }>;

/**
 * The embedded store's start: Engine.start under the slot's run id (records run.started; driving it is the caller's:
 * `serve` drives every unsettled run). A run that exists already is a duplicate. `sourceOf` adds the definition's file
 * and handler module (as `emit` records them).
 */
export function engineStarter(
  engine: Engine,
  sourceOf: (def: Definition) => Omit<RunSource, 'schedule'> = () => ({}),
): StartScheduled {
  return async (s) => {
    const source = { ...sourceOf(s.definition), schedule: s.schedule };
    const duplicate = async () => {
      await assertOwnStart(engine.store, s.runId, s.definition.id, source);
      return { duplicate: true };
    };
    if ((await engine.store.lastSeq(s.runId)) > 0) return duplicate();
    try {
      await engine.start(s.definition, s.input, { runId: s.runId, source });
      return { duplicate: false };
    } catch (err) {
      if (err instanceof AppendConflictError) return duplicate();
      throw err;
    }
  };
}
