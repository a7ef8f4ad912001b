/**
 * `npm run docs:events`: writes docs/events.md, the reference of every event a
 * run's log may hold, from the zod schemas the stores check each event with
 * (src/events: EVENT_DATA and the envelope). What each event means is said
 * here, one line per type, typed so a new event type cannot be left out;
 * its fields come from the schema. test/docs/events-reference.test.ts fails
 * when the page is not what this writes now.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EVENT_DATA, EventEnvelopeSchema, type EventType } from '../src/events/index.js';

export const EVENTS_MD = fileURLToPath(new URL('../docs/events.md', import.meta.url));
export const REGENERATE = 'npm run docs:events';

/** What each event records, for a reader of `ledgerflow history`. */
const MEANING = {
  'run.started':
    'The first event of every run: the normalised definition it runs (so replay never reads the file again), its hash, the input, the priority the start gave, and where the run came from (file, handler module, trigger event, parent run, retried run, schedule slot).',
  'task.started':
    "An attempt of a task instance began (`attempt` counts from 1; `iteration` inside a DO_WHILE, `item` inside a MAP). `reused`: a retry of a failed run completed the task with the old run's output, without an attempt.",
  'task.completed':
    'An attempt finished with `output`. `by`: the NATS user that reported it, where a server could tell.',
  'task.failed':
    "An attempt failed with `error` (`code`, `message`, `retryable`): retried as the task's retry_policy allows (the next attempt waiting at least `retryAfterMs` when it is there: an HTTP task's Retry-After, a handler's RetryAfterError), else the task fails.",
  'timer.fired':
    "A durable timer came due: a retry's backoff, an attempt's timeout, a HUMAN task's approval timeout, a WAIT, or the run's own `timeout:` (task `$run`).",
  'approval.recorded':
    'A person approved or rejected a HUMAN task (`by`; `unauthenticated` when no server proved the name).',
  'run.cancelled': 'The run was cancelled (`by`, `reason`): nothing more starts, and it settles as CANCELLED.',
  'approval.refused':
    'A decision the rule refused (not an approver, already decided): kept for the audit trail, it changes no state.',
  'run.failed':
    'The engine could not fold an input into the run: the run fails with `error` instead of crashing the engine or staying stuck.',
  'task.restarted':
    'The attempt in flight was lost with the process running it (`resumed`, `worker_lost`) and runs again: the same attempt number and idempotency key, its retries untouched.',
  'signal.received':
    "A signal for the run's WAITs on `name`: each waiting one completes with `data` as its output; one not yet reached keeps it.",
  'run.paused':
    'A person paused the run: no new attempt starts until run.resumed (running ones finish and are recorded).',
  'run.resumed': 'The run was un-paused: the next commit starts every task scheduled meanwhile.',
  'run.queued':
    "The run waits for a slot of its workflow's `concurrency:` (status QUEUED), ordered by `priority` then by this event's time; `key` is the value the limit holds per.",
  'run.admitted': 'A slot was free: the queued run goes on (`by`: the process that admitted it).',
  'notification.sent':
    'A notification was delivered to one target (`id`: `<runId>/<seq>/<on>`, `seq`: the event that made it due). Changes no state.',
  'notification.dead_lettered': 'A notification could not be delivered after its attempts (`error`). Changes no state.',
  'task.delayed':
    'An attempt waits, not started: a circuit breaker is open (`reason` `breaker_open`, `breaker` its name, `until` when it half-opens), or no worker or agent has every skill the task `requires:` (`reason` `no_skilled_worker`, `skills`). Recorded once per waiting attempt; changes no state (the task stays SCHEDULED until its task.started).',
  'run.migrated':
    'The unsettled run was taken over by another version of its workflow (`ledgerflow migrate`, docs/runs.md#migrating-in-flight-runs): `from` and `to` name the versions (number and definition hash), `map` the old task ids renamed (old → new), `by` who migrated it; `definition` is the new definition and `fold` the state it takes the run over in (the events before, folded again under it), so replay needs nothing outside the log. Every event after it is of the new version.',
  'run.forked':
    "The run is a fork (`ledgerflow fork`, docs/runs.md#forking-a-run), recorded right after its run.started in the same commit: `from` the run it was forked from, `at` the point (after event `seq` of that run; `task`: the task `--at` named, which starts again here), `by` who forked it. Changes no state: the outputs the fork reuses are in run.started's `source.forked`.",
  'task.released':
    'The attempt in flight was given back by a clean stop of the process running it (Ctrl-C, SIGTERM, a `serve` whose grace ran out; over NATS a `worker` or an `engine --handlers` stopped with SIGTERM or SIGINT whose `--grace` ran out), recorded before that process ended; `restart` is which run of the attempt (0: its first). It stays in flight: the next `resume` or `serve` runs it again (task.restarted) under the same attempt number and idempotency key — over NATS the engine records that task.restarted in the same commit and hands the attempt out again at once — and that restart is not counted as a loss (a process killed with the attempt, `kill -9` or a crash, still is: past 3 losses the attempt fails with `LF_ATTEMPT_LOST`).',
} as const satisfies Record<EventType, string>;

type Json = {
  type?: string | string[];
  properties?: Record<string, Json>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  items?: Json;
  anyOf?: Json[];
  oneOf?: Json[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  additionalProperties?: Json | boolean;
};

/** A bound worth saying: zod writes JavaScript's safe-integer range on every integer. */
const said = (n: number | undefined): n is number => n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER;

/** A JSON schema's type, in a few words. */
function typeOf(s: Json): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type;
  if (t === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (t === 'object' && s.properties) return `object {${Object.keys(s.properties).join(', ')}}`;
  if (t === 'object') return 'object';
  if (t === 'integer') {
    const min = said(s.exclusiveMinimum) ? s.exclusiveMinimum + 1 : s.minimum;
    return `integer${said(min) ? ` ≥ ${min}` : ''}${said(s.maximum) ? ` ≤ ${s.maximum}` : ''}`;
  }
  return t ?? 'any JSON value';
}

/** One row per field of an object schema, nested objects' fields as `parent.child`. */
function rows(s: Json, prefix = ''): string[] {
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties ?? {}).flatMap(([name, f]) => {
    const row = `| \`${prefix}${name}\` | ${typeOf(f)} | ${required.has(name) ? 'yes' : ''} |`;
    const nested = f.type === 'object' && f.properties && prefix === '' ? rows(f, `${prefix}${name}.`) : [];
    return [row, ...nested];
  });
}

function table(s: Json): string {
  return ['| field | type | always |', '| --- | --- | --- |', ...rows(merged(s))].join('\n');
}

/**
 * A data shape that is one of several (a discriminated union: task.delayed's reasons) as one object: every field of
 * any of them, its types joined, "always" only where every one requires it.
 */
function merged(s: Json): Json {
  const options = s.oneOf ?? (s.anyOf?.every((o) => o.properties) ? s.anyOf : undefined);
  if (!options) return s;
  const properties: Record<string, Json> = {};
  for (const o of options) {
    for (const [name, f] of Object.entries(o.properties ?? {})) {
      const before = properties[name];
      properties[name] =
        before === undefined || typeOf(before) === typeOf(f) ? f : { anyOf: [...(before.anyOf ?? [before]), f] };
    }
  }
  const required = Object.keys(properties).filter((n) => options.every((o) => o.required?.includes(n)));
  return { type: 'object', properties, required };
}

const jsonSchema = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;

/** The page, as the schemas say it now. */
export function renderEventsReference(): string {
  const envelope = jsonSchema(EventEnvelopeSchema.options[0]!);
  const envelopeOnly: Json = {
    ...envelope,
    properties: Object.fromEntries(
      Object.entries(envelope.properties ?? {}).filter(([k]) => k !== 'type' && k !== 'data'),
    ),
  };
  const types = Object.keys(EVENT_DATA) as EventType[];
  return [
    '<!-- Generated by `' +
      REGENERATE +
      '` from src/events (the zod schemas every stored event is checked with): do not edit by hand. -->',
    "# Events: what a run's log holds",
    '',
    `A run is the events of its log, folded in order ([ARCHITECTURE.md](../ARCHITECTURE.md)): ${types.length} types, each`,
    'below with what it records and its `data`. `ledgerflow history <runId>` prints them (`--json`: these',
    'shapes), `ledgerflow replay` folds them again, and the golden histories (test/fixtures/histories)',
    'hold the log format to what older versions wrote: a field may be added (optional), never renamed.',
    '',
    '## Every event',
    '',
    'Each event has these fields beside `type` and `data`:',
    '',
    table(envelopeOnly),
    '',
    "**Large values.** Where `data` holds a value (the input or one of its fields, an output, a signal's",
    "data), a value whose JSON is over the workflow's `payloads.inline_limit` (256 KiB by default) is kept",
    'apart from the log and recorded as a reference to its body, `{ "lf:blob": { "digest": "sha256:<64 hex>",',
    '"size": <bytes>, "media_type": "application/json" } }`: the digest is of the value\'s JSON bytes, `replay`',
    'checks it, and templates read the value as if it were inline ([Large payloads](language.md#large-payloads)).',
    '',
    ...types.flatMap((t) => [`## ${t}`, '', MEANING[t], '', table(jsonSchema(EVENT_DATA[t])), '']),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let before = '';
  try {
    before = readFileSync(EVENTS_MD, 'utf8');
  } catch {
    /* first time */
  }
  const after = renderEventsReference();
  writeFileSync(EVENTS_MD, after);
  console.log(before === after ? `${EVENTS_MD}: up to date` : `${EVENTS_MD}: written`);
}
