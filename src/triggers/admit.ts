/**
 * The whole decision about one incoming event, with no I/O: accept it (and say which runs it starts, with checked
 * inputs) or reject it with the reason. `emit` on the embedded store and the NATS engines' trigger consumer
 * (cluster/engine/trigger-events.ts) both call this and only differ in what they do with the answer.
 *
 * Rules:
 * - the envelope must parse (id, type, ISO time, data object);
 * - with a schema (events/<type>.yaml) the data must fit it;
 * - without one, the type is accepted only if some workflow triggers on it (with a warning that its data is unchecked):
 *   a type nothing knows is most likely a typo, and is rejected rather than silently ignored;
 * - every matching trigger's input must pass the workflow's declared inputs. All or nothing: if one does not, no run
 *   starts, so re-sending a fixed event with the same id starts all of them.
 * A schema-valid event that no filter lets through is accepted with no runs.
 */
import type { Definition } from '../definition/index.js';
import { InputError } from '../errors/index.js';
import { nestsDeeperThan, tooDeepText } from '../events/index.js';
import { prepareInput } from '../runtime/index.js';
import { parseEventEnvelope, type TriggerEvent } from './envelope.js';
import { isTriggered, matchTriggers, type TriggerMatch } from './match.js';
import { checkEventData, type EventTypeSpec } from './schemas.js';

export interface TriggerCatalog {
  definitions: readonly Definition[];
  eventTypes: ReadonlyMap<string, EventTypeSpec>;
}

export type RejectionStage = 'envelope' | 'schema' | 'unknown_type' | 'input';

export type Admission =
  | { accepted: true; event: TriggerEvent; matches: TriggerMatch[]; warnings: string[] }
  | { accepted: false; stage: RejectionStage; reason: string; problems: string[] };

function reject(stage: RejectionStage, reason: string, problems: string[] = []): Admission {
  return { accepted: false, stage, reason, problems };
}

export function admitEvent(raw: unknown, catalog: TriggerCatalog): Admission {
  const parsed = parseEventEnvelope(raw);
  if (!parsed.ok) return reject('envelope', `not a valid event: ${parsed.problems.join('; ')}`, parsed.problems);
  const { event } = parsed;
  // First: the schema's check and the triggers' templates below walk the data (events/json-depth.ts).
  if (nestsDeeperThan(event.data)) return reject('envelope', tooDeepText(`the data of event ${event.id}`));
  const warnings: string[] = [];
  const spec = catalog.eventTypes.get(event.type);
  if (spec) {
    const problems = checkEventData(spec, event.data);
    if (problems.length > 0)
      return reject(
        'schema',
        `event ${event.id} does not fit the schema of ${event.type}: ${problems.join('; ')}`,
        problems,
      );
  } else if (isTriggered(catalog.definitions, event.type)) {
    warnings.push(`no schema for event type ${event.type} (events/${event.type}.yaml): its data is not validated`);
  } else {
    const known = [
      ...new Set([
        ...catalog.eventTypes.keys(),
        ...catalog.definitions.flatMap((d) => d.triggers.flatMap((t) => (t.kind === 'event' ? [t.event] : []))),
      ]),
    ].sort();
    return reject(
      'unknown_type',
      `unknown event type "${event.type}": no events/${event.type}.yaml schema and no workflow triggers on it; known types: ${known.join(', ') || '(none)'}`,
    );
  }
  const matches: TriggerMatch[] = [];
  const problems: string[] = [];
  for (const m of matchTriggers(catalog.definitions, event)) {
    try {
      matches.push({ ...m, input: prepareInput(m.definition, m.input) });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(`workflow ${m.definition.id} (triggers[${m.triggerIndex}]): ${err.message}`);
    }
  }
  if (problems.length > 0)
    return reject('input', `event ${event.id} cannot start its workflows: ${problems.join('; ')}`, problems);
  return { accepted: true, event, matches, warnings };
}
