/**
 * What an EMIT task does on the embedded store: the same admission and run starts as `ledgerflow emit`, with the
 * event's id taken from the attempt (`<runId>/<task>/<attempt>`), so a re-run of the attempt starts nothing twice. The
 * triggers looked at are the definitions beside the emitting run's file (and the event types in `events/` beside that
 * folder); without a file, the defaults `ledgerflow emit` uses. A file of that folder that does not load is skipped and
 * named in the output's `skipped`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { iso, MAX_CHILD_DEPTH } from '../compiler/index.js';
import type { EngineOptions, EventEmitter } from '../local/index.js';
import { systemClock } from '../executor/index.js';
import { AttemptFailedError } from '../errors/index.js';
import type { EventStore } from '../store/index.js';
import type { DeadLetterSink } from './deadletter.js';
import type { EmitOptions } from './emit.js';

interface TaskEmitterOptions extends Omit<EngineOptions, 'store'> {
  store: EventStore;
  deadLetters: DeadLetterSink;
  maxTimerWaitMs?: number;
  gates?: EmitOptions['gates'];
}

/** The attempt's output: the event, its id, and the runs it started (none, with a note, when no trigger matched). */
interface EmitOutput {
  event: string;
  eventId: string;
  runs: { runId: string; workflowId: string; version: number; status: string; duplicate: boolean }[];
  note?: string;
  /** Definition files beside the run's that were passed over (do not load, or repeat a workflow id), each at its file:line:col. */
  skipped?: string[];
}

export function taskEmitter(opts: TaskEmitterOptions): EventEmitter {
  const emitter: EventEmitter = async (effect, ctx) => {
    if (ctx.depth > MAX_CHILD_DEPTH) {
      throw new AttemptFailedError(
        'LF_SUBWORKFLOW_CYCLE',
        `EMIT of ${effect.event} from run ${effect.runId} would start runs ${ctx.depth} levels below a top-level run (the bound is ${MAX_CHILD_DEPTH}): the workflows emit events that start each other in a cycle`,
        false,
      );
    }
    // Loaded by the first EMIT, not with every engine on disk (`ledgerflow run` of a workflow that emits nothing).
    const [{ admitEvent }, { loadTriggerCatalog }, { emitEvent }] = await Promise.all([
      import('./admit.js'),
      import('./catalog.js'),
      import('./emit.js'),
    ]);
    const definitionsDir = ctx.parentFile ? dirname(ctx.parentFile) : undefined;
    const siblingEvents = definitionsDir ? join(dirname(definitionsDir), 'events') : undefined;
    const catalog = loadTriggerCatalog({
      ...(definitionsDir ? { definitionsDir } : {}),
      ...(siblingEvents && existsSync(siblingEvents) ? { eventsDir: siblingEvents } : {}),
    });
    const clock = opts.clock ?? systemClock;
    const event = {
      id: effect.eventId,
      type: effect.event,
      time: iso(clock.now()),
      source: `ledgerflow:${effect.runId}`,
      data: effect.data,
    };
    // Recorded in the attempt's output (history shows it): a broken neighbour is passed over, never silently.
    const base: EmitOutput = {
      event: effect.event,
      eventId: effect.eventId,
      runs: [],
      ...(catalog.skipped.length ? { skipped: catalog.skipped.map((x) => x.reason) } : {}),
    };
    // An event no workflow triggers on is recorded as emitted, with no run: said so, not dead-lettered.
    const admission = admitEvent(event, { definitions: catalog.definitions, eventTypes: catalog.eventTypes });
    if (!admission.accepted && admission.stage === 'unknown_type')
      return { ...base, note: `no workflow triggers on ${effect.event}: no run started` };
    const { deadLetters, maxTimerWaitMs, ...engineOpts } = opts;
    const result = await emitEvent(event, {
      ...engineOpts,
      emitEvent: emitter,
      catalog,
      deadLetters,
      handlers: ctx.handlers,
      depth: ctx.depth,
      signal: ctx.signal,
      ...(maxTimerWaitMs !== undefined ? { maxTimerWaitMs } : {}),
    });
    if (!result.accepted) {
      throw new AttemptFailedError(
        'LF_EVENT_REJECTED',
        `event ${effect.eventId} (${effect.event}) was rejected: ${result.reason} (kept in ${result.deadLetter})`,
        false,
      );
    }
    const runs = result.runs.map(({ runId, workflowId, version, status, duplicate }) => ({
      runId,
      workflowId,
      version,
      status,
      duplicate,
    }));
    return {
      ...base,
      runs,
      ...(runs.length === 0 ? { note: `no trigger of ${effect.event} matched the event's data: no run started` } : {}),
    };
  };
  return emitter;
}
