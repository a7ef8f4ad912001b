/**
 * Which workflows an event starts, with what input, under which run id. Pure: the same definitions and event always
 * give the same answer, so any engine (CLI now, NATS consumers later) decides alike.
 */
import { createHash } from 'node:crypto';
import type { Definition, EventTrigger, JsonValue } from '../definition/index.js';
import { evaluateCondition, resolveTemplate, type Scope } from '../expressions/index.js';
import type { TriggerEvent } from './envelope.js';

export interface TriggerMatch {
  definition: Definition;
  trigger: EventTrigger;
  /** Index in the definition's `triggers`, for messages. */
  triggerIndex: number;
  runId: string;
  /** The input mapping resolved against the event (not yet checked against the declared inputs). */
  input: Record<string, JsonValue>;
}

/**
 * The run id of the run an event starts for a workflow: the same for every delivery of the event, so the store refuses
 * the second start and each event starts each workflow exactly once. A workflow id holds no `/`, so
 * `eventId/workflowId` cannot collide for two different pairs.
 */
export function runIdForEvent(eventId: string, workflowId: string): string {
  return `ev-${createHash('sha256').update(`${eventId}/${workflowId}`).digest('hex').slice(0, 20)}`;
}

function triggerScope(def: Definition, runId: string, event: TriggerEvent): Scope {
  return { event, input: {}, workflow: { id: def.id, runId, version: def.version }, tasks: {} };
}

/** Missing values are left out, so the input's defaults apply and a missing required input is named as such. */
function defined(value: unknown): Record<string, JsonValue> {
  const obj = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Record<string, JsonValue>;
}

/**
 * Every workflow the event starts: a trigger matches when its `event` is the event's type and its filter (if any)
 * holds. At most one match per definition (its first matching trigger), in the order of `definitions`.
 */
export function matchTriggers(definitions: readonly Definition[], event: TriggerEvent): TriggerMatch[] {
  const out: TriggerMatch[] = [];
  for (const definition of definitions) {
    const runId = runIdForEvent(event.id, definition.id);
    const scope = triggerScope(definition, runId, event);
    const index = definition.triggers.findIndex(
      (t) =>
        t.kind === 'event' && t.event === event.type && (t.filter === undefined || evaluateCondition(t.filter, scope)),
    );
    if (index < 0) continue;
    const trigger = definition.triggers[index] as EventTrigger;
    out.push({
      definition,
      trigger,
      triggerIndex: index,
      runId,
      input: defined(resolveTemplate(trigger.input, scope)),
    });
  }
  return out;
}

/** Whether any definition listens to this event type at all (filters aside). */
export function isTriggered(definitions: readonly Definition[], type: string): boolean {
  return definitions.some((d) => d.triggers.some((t) => t.kind === 'event' && t.event === type));
}
