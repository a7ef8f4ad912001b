/** The request bodies of the API, checked with zod at the boundary; a failure is a 400 naming the field. */
import { z } from 'zod';
import { PrioritySchema, type Definition } from '../definition/index.js';
import { InputError } from '../errors/index.js';
import { RUN_ID_PATTERN, SignalBodySchema } from '../events/index.js';
import { CallerRunIdSchema, IdReuseSchema } from '../executor/index.js';
import { BREAKER_NAME } from '../limits/index.js';
import { prepareInput } from '../runtime/index.js';
import { ApiError } from './errors.js';

const as = z.string().min(1).max(200).optional();
export const DecisionBody = z
  .object({ task: z.string().min(1).max(200), comment: z.string().max(4000).optional(), as })
  .strict();
export const SignalBody = z.object({ name: z.string(), data: z.unknown().optional(), as }).strict();
export const ControlBody = z.object({ reason: z.string().max(1000).optional(), as }).strict();
/** A resume records who (run.resumed has no reason): a `reason` is refused rather than dropped. */
export const ResumeBody = z.object({ as }).strict();
/** POST /api/breakers/open|close: a breaker named as `limits show` names it. */
export const BreakerBody = z
  .object({
    name: z
      .string()
      .regex(
        BREAKER_NAME,
        'a breaker as `limits show` names it: task/<workflow>/<task>, queue/<queue> or handler/<handler>',
      ),
  })
  .strict();
/** POST /api/schedules/:workflow/:action (docs/operations.md#schedules): `from`/`to` for a backfill, `reason` for a pause. */
export const ScheduleActionBody = z
  .object({
    trigger: z.number().int().nonnegative().optional(),
    reason: z.string().max(1000).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
/** POST /api/bulk/:action's body (bulk.ts says what `dryRun` and `confirm` do): `query` is GET /api/runs's filters. */
export const BulkBody = z
  .object({
    // A filter's value; `where` may be a list (every condition holds), as the query string repeats it.
    query: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string())])),
    /** cancel, pause: recorded as the single action's reason; approve: its comment. */
    reason: z.string().max(1000).optional(),
    dryRun: z.boolean().optional(),
    confirm: z.number().int().min(0).optional(),
    /** approve: only this waiting HUMAN task of each run (default: every one each run waits on), and how. */
    task: z.string().min(1).max(200).optional(),
    decision: z.enum(['approved', 'rejected']).optional(),
    /** Only these runs of those the query matches (the dashboard's selection): never one outside the query. */
    runs: z.array(z.string().min(1).max(200)).min(1).max(500).optional(),
  })
  .strict();
export const RetryBody = z.object({ as }).strict();
/** A fork (docs/runs.md#forking-a-run): its point (a task id, or an event's sequence number), the inputs it changes. */
export const ForkBody = z
  .object({
    at: z.union([z.string().min(1).max(300), z.number().int().positive()]),
    input: z.record(z.string(), z.unknown()).default({}),
    reset: z.boolean().optional(),
    as,
  })
  .strict();
export const StartBody = z
  .object({
    input: z.record(z.string(), z.unknown()).default({}),
    version: z.number().int().positive().optional(),
    // A caller-chosen run id: a second start with it returns that run (docs/runs.md#caller-chosen-run-ids).
    runId: CallerRunIdSchema.optional(),
    idReuse: IdReuseSchema.optional(),
    // Overrides the workflow's priority: for its place in the concurrency queue (docs/limits.md#concurrency-limits-and-priority).
    priority: PrioritySchema.optional(),
  })
  .strict()
  .refine((b) => b.idReuse === undefined || b.runId !== undefined, {
    error: 'idReuse needs runId: it says when that id may start a new run',
    path: ['idReuse'],
  });
export const EmitBody = z.object({ data: z.unknown().default({}), id: z.string().min(1).max(200).optional() }).strict();
/** The editor's draft (docs/dashboard.md#editing-a-definition): a definition's YAML text, as a file would hold it. */
export const DraftBody = z
  .object({ yaml: z.string().min(1, 'the draft is empty: write a definition (or start from a template)') })
  .strict();
export const SessionBody = z
  .object({ user: z.string().min(1).max(200), password: z.string().min(1).max(1000) })
  .strict();

/** Parses `value` or throws a 400 naming the first bad field. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field =
    issue.code === 'unrecognized_keys' ? issue.keys[0]! : issue.path.length > 0 ? issue.path.join('.') : '(body)';
  const what = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  throw new ApiError(400, 'LF_INPUT_INVALID', `${field}: ${what}`, { field });
}

/** A signal's name and data as the wire checks them (name pattern, 64 KB of data). */
export function checkSignal(name: string, data: unknown): void {
  parseBody(SignalBodySchema, { name, ...(data !== undefined ? { data } : {}) });
}

/** A run id in a URL, as the stores accept it (1-128 of A-Z a-z 0-9 _ -): anything else (`..%2F`, 5 000 characters) is a 400 before any store sees it. */
export function checkRunIdParam(id: string): void {
  if (!RUN_ID_PATTERN.test(id)) {
    const shown = id.length > 80 ? `${JSON.stringify(id.slice(0, 80))}… (${id.length} characters)` : JSON.stringify(id);
    throw new ApiError(
      400,
      'LF_INPUT_INVALID',
      `id: ${shown} is not a run id (1-128 characters among A-Z a-z 0-9 _ -)`,
      { field: 'id' },
    );
  }
}

/**
 * A workflow's input checked against its declared `input:` (the runtime's prepareInput, which `start` runs too): a 400
 * naming `input.<name>`, with words for a form rather than the CLI's `--name <value>`.
 */
export function checkStartInput(def: Definition, input: Record<string, unknown>): void {
  try {
    prepareInput(def, input);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw inputFieldError(def, err);
  }
}

export function inputFieldError(def: Definition, err: InputError): ApiError {
  const meta = err.meta as { missing?: string[]; unknown?: string[]; input?: string; expected?: string };
  const declared = def.inputs.map((d) => `${d.name}${d.required ? '' : '?'}: ${d.type}`).join(', ') || '(none)';
  const name = meta.missing?.[0] ?? meta.unknown?.[0] ?? meta.input;
  if (name === undefined) return new ApiError(400, 'LF_INPUT_INVALID', `input: ${err.message}`, { field: 'input' });
  const what = meta.missing
    ? `required input of workflow ${def.id} is missing`
    : meta.unknown
      ? `workflow ${def.id} declares no input "${name}"`
      : err.message.replace(/^input \S+ /, ''); // "must be a number, got \"three\""
  return new ApiError(400, 'LF_INPUT_INVALID', `input.${name}: ${what} (declared: ${declared})`, {
    field: `input.${name}`,
  });
}

/** The field a rejected event names first ("data.amount: …" → data.amount). */
export function eventProblemField(problems: readonly string[]): string {
  return /^([^\s:]+):/.exec(problems[0] ?? '')?.[1] ?? 'data';
}

/** POST /api/definitions/:id/migrate (docs/runs.md#migrating-in-flight-runs): the CLI's `migrate` flags as JSON. */
export const MigrateBody = z
  .object({
    /** The version to move to (a file here, or deployed). */
    to: z.number().int().positive(),
    /** Tasks renamed in the new version: old id → new id. */
    map: z.record(z.string().min(1).max(200), z.string().min(1).max(200)).optional(),
    /** Only the runs of the workflow this filter matches (list's filters). */
    query: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string())])).optional(),
    dryRun: z.boolean().optional(),
    /** The real migration: how many runs would take over now (a dry run's `as_is + with_map`). */
    confirm: z.number().int().min(0).optional(),
  })
  .strict();
