/**
 * Raw YAML shape → canonical Definition. Deliberately lenient: it runs even
 * when the schema found errors (a wrong value falls back to its default), so
 * the graph checks can still report their problems in the same pass. The
 * result is only returned to callers when there are no errors.
 */
import { parseLevel } from '../authority/index.js';
import { parseDuration } from './duration.js';
import { isObj } from './issues.js';
import { SEARCH_TYPES, shorthandType } from './search.js';
import { stationQueue } from './task-handlers.js';
import { httpTask } from './http.js';
import {
  TASK_TYPES,
  type BackoffStrategy,
  type DecisionCase,
  type HumanTimeoutAction,
  type JsonValue,
  type OutputSpec,
  type RetryPolicy,
  type TaskDef,
  type TaskType,
  type TriggerRule,
} from './task-types.js';
import {
  CATCH_UP_MODES,
  DEFAULT_RETRIED_AT_LEAST,
  ID_REUSE_POLICIES,
  NOTIFY_ON,
  RUN_TIMEOUT_POLICIES,
  type IdReusePolicy,
  type Definition,
  type InputDecl,
  type InputType,
  type NotificationRule,
  type NotifyOnName,
  type Trigger,
  type ConcurrencySpec,
  type TriggerDebounce,
  type TriggerThrottle,
} from './types.js';

type Raw = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown, min = 0): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined;
const map = (v: unknown): Record<string, JsonValue> => (isObj(v) ? (v as Record<string, JsonValue>) : {});
const oneOf = <T extends string>(v: unknown, values: readonly T[]): T | undefined =>
  typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : undefined;
const duration = (v: unknown): number | undefined =>
  typeof v === 'string' || typeof v === 'number' ? (parseDuration(v) ?? undefined) : undefined;

/** A string or a list of strings, as a list (hand-written files use both). */
/** `requires:` as a sorted list of distinct skills (undefined when absent or empty: no routing). */
function skillList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const skills = [...new Set(v.filter((s): s is string => typeof s === 'string'))].sort();
  return skills.length > 0 ? skills : undefined;
}

export function idList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** Drops undefined members so optional fields are absent, not `undefined` (stable hashes, clean JSON). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * `o` rebuilt key by key, the same keys in the same order. Node 20's V8 gives
 * an object made by a spread and a key the spread did not have (`{ ...base,
 * type }`) a hidden class of its own: every task of a 3,000-task definition
 * had one, and each read of a task's definition in the fold missed V8's
 * caches. Built key by key (as compact builds), tasks of one shape share one.
 */
function rebuilt<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o)) as T;
}

export function taskTypeOf(v: unknown): TaskType | undefined {
  return typeof v === 'string' ? oneOf(v.toUpperCase(), TASK_TYPES) : undefined;
}

export function isDefaultCase(name: string): boolean {
  return name.toLowerCase() === 'default';
}

function inferType(v: unknown): InputType {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  if (isObj(v)) return 'object';
  return 'any';
}

const INPUT_TYPES: readonly InputType[] = ['string', 'number', 'boolean', 'object', 'array', 'any'];
const SPEC_KEYS = ['type', 'default', 'description'];

/** `{name: {type?, default?, description?}}` is a declaration; any other value is the default itself. */
function isSpec(v: unknown): v is Raw {
  if (!isObj(v)) return false;
  const keys = Object.keys(v);
  return (
    keys.length > 0 &&
    keys.every((k) => SPEC_KEYS.includes(k)) &&
    (v.type === undefined || oneOf(v.type, INPUT_TYPES) !== undefined)
  );
}

function inputs(raw: unknown): InputDecl[] {
  const out: InputDecl[] = [];
  const section = isObj(raw) ? raw : {};
  for (const required of [true, false]) {
    const items = section[required ? 'required' : 'optional'];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      if (typeof item === 'string') {
        out.push({ name: item, required, type: 'any' });
        continue;
      }
      if (!isObj(item)) continue;
      for (const [name, v] of Object.entries(item)) {
        if (required || isSpec(v)) {
          const spec = isObj(v) ? v : {};
          const def = spec.default as JsonValue | undefined;
          const type = oneOf(spec.type, INPUT_TYPES) ?? inferType(def);
          out.push(
            compact({ name, required, type, default: required ? undefined : def, description: str(spec.description) }),
          );
        } else {
          out.push({ name, required, type: inferType(v), default: v as JsonValue });
        }
      }
    }
  }
  return out;
}

export function outputSpec(v: unknown): OutputSpec {
  if (Array.isArray(v)) return { names: v.filter((x): x is string => typeof x === 'string'), values: {} };
  return { names: [], values: map(v) };
}

function retry(v: unknown): RetryPolicy {
  const r = isObj(v) ? v : {};
  const backoffs: BackoffStrategy[] = ['fixed', 'linear', 'exponential'];
  const jitter = typeof r.jitter === 'number' && r.jitter >= 0 && r.jitter <= 1 ? r.jitter : 0;
  return {
    maxAttempts: int(r.max_attempts, 1) ?? 1,
    backoff: oneOf(r.backoff, backoffs) ?? oneOf(r.backoff_strategy, backoffs) ?? 'exponential',
    initialDelayMs: duration(r.initial_delay) ?? 1000,
    maxDelayMs: duration(r.max_delay) ?? null,
    jitter,
  };
}

function decision(t: Raw): { cases: DecisionCase[]; defaultNext?: string[] } {
  const cases: DecisionCase[] = [];
  let defaultNext: string[] | undefined;
  for (const [name, body] of Object.entries(isObj(t.decision_cases) ? t.decision_cases : {})) {
    const c = isObj(body) ? body : {};
    const next = [...new Set([...idList(c.next), ...idList(c.next_tasks)])];
    if (isDefaultCase(name)) defaultNext = next;
    else cases.push(compact({ name, next, condition: str(c.condition) }));
  }
  return compact({ cases, defaultNext });
}

function task(t: Raw, index: number): TaskDef | null {
  const id = str(t.id);
  if (id === undefined) return null;
  const type = taskTypeOf(t.type) ?? 'SIMPLE';
  const assignedTo = str(t.assigned_to);
  const base = compact({
    id,
    name: str(t.name) ?? id,
    description: str(t.description),
    index,
    dependsOn: idList(t.depends_on),
    parallelWith: idList(t.parallel_with),
    input: map(t.input),
    output: outputSpec(t.output),
    outputTo: str(t.output_to),
    retry: retry(t.retry_policy),
    timeoutMs: duration(t.timeout),
    handler: str(t.handler),
    assignedTo,
    // `L2`, `l2` and 2 are one level, recorded as `L2` (checkAuthority refuses anything else).
    agentLevel:
      parseLevel(t.agent_level) ?? (typeof t.agent_level === 'number' ? String(t.agent_level) : str(t.agent_level)),
    // A station's task waits on the station's queue (checks.ts refuses a queue: beside it).
    queue: str(t.station) !== undefined ? stationQueue(str(t.station)!) : str(t.queue),
    station: str(t.station),
    requires: skillList(t.requires),
    concurrency: isObj(t.concurrency) ? { limit: int(t.concurrency.limit, 1) ?? 1 } : undefined,
    rateLimit: isObj(t.rate_limit)
      ? { limit: int(t.rate_limit.limit, 1) ?? 1, perMs: duration(t.rate_limit.per) ?? 1000 }
      : undefined,
    breaker: isObj(t.breaker)
      ? {
          failures: int(t.breaker.failures, 1) ?? 1,
          windowMs: duration(t.breaker.window) ?? 60_000,
          openForMs: duration(t.breaker.open_for) ?? 30_000,
        }
      : undefined,
    optional: t.optional === true,
    triggerRule:
      oneOf<TriggerRule>(t.trigger_rule, ['none_failed_min_one_success', 'all_success', 'all_done']) ??
      'none_failed_min_one_success',
  });
  switch (type) {
    case 'SIMPLE':
      return rebuilt({ ...base, type });
    case 'COMMAND':
      return compact({
        ...base,
        type,
        command: Array.isArray(t.command)
          ? t.command.filter((a) => typeof a === 'string' || typeof a === 'number').map(String)
          : [],
        cwd: str(t.cwd),
        env: Object.fromEntries(
          Object.entries(isObj(t.env) ? t.env : {})
            .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
            .map(([k, v]) => [k, String(v)]),
        ),
      });
    case 'HTTP':
      return compact(httpTask(t, base));
    case 'DECISION':
      return compact({ ...base, type, decisionParam: str(t.decision_param), ...decision(t) });
    case 'HUMAN': {
      const approvers = t.approvers !== undefined ? idList(t.approvers) : assignedTo ? [assignedTo] : [];
      const onTimeout = oneOf<HumanTimeoutAction>(t.on_timeout, ['fail', 'approve', 'reject', 'skip']) ?? 'fail';
      return rebuilt({ ...base, type, approvers, onTimeout });
    }
    case 'FORK':
      return rebuilt({
        ...base,
        type,
        forkTasks: Array.isArray(t.fork_tasks) ? t.fork_tasks.flatMap(idList) : idList(t.fork_tasks),
      });
    case 'JOIN':
      return rebuilt({ ...base, type, joinOn: idList(t.join_on) });
    case 'DO_WHILE':
      return compact({
        ...base,
        type,
        loopCondition: str(t.loop_condition) ?? '',
        loopOver: idList(t.loop_over),
        maxIterations: int(t.max_iterations, 1),
      });
    case 'WAIT':
      return compact({
        ...base,
        type,
        durationMs: duration(t.duration),
        until: str(t.until),
        event: str(t.event),
        signalers: t.from !== undefined ? idList(t.from) : undefined,
        onTimeout: oneOf(t.on_timeout, ['fail', 'skip'] as const),
      });
    case 'SUB_WORKFLOW':
      return compact({ ...base, type, workflow: str(t.workflow) ?? '', version: int(t.version, 1) });
    case 'MAP':
      return compact({
        ...base,
        type,
        items: str(t.items) ?? '',
        iterator: str(t.iterator) ?? '',
        maxConcurrency: int(t.max_concurrency, 1),
        tolerateFailures: int(t.tolerate_failures, 0),
        workflow: str(t.workflow),
        version: int(t.version, 1),
      });
    case 'TERMINATE':
      return compact({
        ...base,
        type,
        status: oneOf(t.status, ['COMPLETED', 'FAILED'] as const) ?? 'COMPLETED',
        reason: str(t.reason),
      });
    case 'SET':
      return rebuilt(
        compact({ ...base, type, values: map(t.values), search: isObj(t.search) ? map(t.search) : undefined }),
      );
    case 'EMIT':
      return rebuilt({ ...base, type, event: str(t.event) ?? '', data: map(t.data) });
    case 'TRANSFORM':
      // A script (js) when the task has one; else the jq program, as before scripts existed.
      return rebuilt(
        t.js !== undefined && t.jq === undefined
          ? { ...base, type, js: str(t.js) ?? '' }
          : { ...base, type, jq: str(t.jq) ?? '' },
      );
  }
}

function triggers(v: unknown): Trigger[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((t): Trigger => {
    const input = map(t.input);
    const event = str(t.event);
    if (event !== undefined)
      return compact({
        kind: 'event',
        event,
        filter: str(t.filter),
        input,
        debounce: debounceOf(t.debounce),
        throttle: throttleOf(t.throttle),
      });
    return {
      kind: 'schedule',
      cron: str(t.schedule) ?? str(t.cron) ?? '',
      timezone: str(t.timezone) ?? 'UTC',
      catchUp: oneOf(t.catch_up, CATCH_UP_MODES) ?? 'latest',
      input,
    };
  });
}

/** Trigger flow control (docs/triggers.md#debounce-and-throttle), absent unless written: a definition without it normalises as before. */
function debounceOf(v: unknown): TriggerDebounce | undefined {
  if (!isObj(v)) return undefined;
  return compact({ periodMs: duration(v.period) ?? 0, key: str(v.key) });
}
function throttleOf(v: unknown): TriggerThrottle | undefined {
  if (!isObj(v)) return undefined;
  return compact({
    limit: typeof v.limit === 'number' ? v.limit : 1,
    perMs: duration(v.per) ?? 0,
    key: str(v.key),
    onLimit: v.on_limit === 'drop' ? ('drop' as const) : ('queue' as const),
  });
}

/** Notification rules as the schema checked them (list or single status, snake_case) in canonical form. */
export function notificationRules(v: unknown): NotificationRule[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((r) => {
    const on = (Array.isArray(r.on) ? r.on : [r.on]).filter((x): x is NotifyOnName =>
      (NOTIFY_ON as readonly unknown[]).includes(x),
    );
    const headers = isObj(r.headers)
      ? (Object.fromEntries(Object.entries(r.headers).filter(([, h]) => typeof h === 'string')) as Record<
          string,
          string
        >)
      : undefined;
    return compact({
      on: [...new Set(on)],
      roles:
        r.role === undefined
          ? undefined
          : [...new Set((Array.isArray(r.role) ? r.role : [r.role]).filter((x): x is string => typeof x === 'string'))],
      retriedAtLeast: on.includes('RETRIED') ? (int(r.retried_at_least, 2) ?? DEFAULT_RETRIED_AT_LEAST) : undefined,
      nats: r.nats === true,
      webhook: str(r.webhook),
      headers,
    });
  });
}

function concurrency(raw: unknown): ConcurrencySpec | undefined {
  if (!isObj(raw)) return undefined;
  return compact({
    limit: int(raw.limit, 1) ?? 1,
    key: str(raw.key),
    onLimit: raw.on_limit === 'refuse' ? ('refuse' as const) : ('queue' as const),
  });
}

/** `timeout:` and its policy (default fail), or nothing when the workflow has no timeout. */
function runTimeout(wf: Raw): Pick<Definition, 'timeoutMs' | 'timeoutPolicy'> {
  const timeoutMs = duration(wf.timeout);
  return timeoutMs === undefined
    ? {}
    : { timeoutMs, timeoutPolicy: oneOf(wf.timeout_policy, RUN_TIMEOUT_POLICIES) ?? 'fail' };
}

/** `wf` is the raw value of the top-level `workflow:` key. */
export function normalize(wf: Raw): Definition {
  const id = str(wf.id) ?? '';
  const tasks = Array.isArray(wf.tasks) ? wf.tasks : [];
  const fw = isObj(wf.failure_workflow) ? wf.failure_workflow : undefined;
  return compact({
    id,
    name: str(wf.name) ?? id,
    version: int(wf.version, 1) ?? 1,
    description: str(wf.description),
    domain: str(wf.domain),
    inputs: inputs(wf.input),
    output: outputSpec(wf.output),
    tasks: tasks.flatMap((t, i) => (isObj(t) ? (task(t, i) ?? []) : [])),
    failureWorkflow: fw && { id: str(fw.id) ?? '', steps: idList(fw.steps), input: map(fw.input) },
    monitoring: isObj(wf.monitoring) ? map(wf.monitoring) : undefined,
    triggers: triggers(wf.triggers),
    handlers: str(wf.handlers),
    idReuse: (ID_REUSE_POLICIES as readonly unknown[]).includes(wf.id_reuse)
      ? (wf.id_reuse as IdReusePolicy)
      : undefined,
    concurrency: concurrency(wf.concurrency),
    priority: typeof wf.priority === 'number' ? wf.priority : undefined,
    notifications: wf.notifications === undefined ? undefined : notificationRules(wf.notifications),
    ...runTimeout(wf),
    search: searchDecls(wf.search),
  });
}

/** `search:` as { value, type }: a shorthand's type from its value (shorthandType). */
function searchDecls(raw: unknown): Definition['search'] {
  if (!isObj(raw)) return undefined;
  const out: NonNullable<Definition['search']> = {};
  for (const [name, v] of Object.entries(raw)) {
    if (isObj(v)) {
      const type = oneOf(v.type, SEARCH_TYPES) ?? shorthandType(v.value);
      out[name] = { value: (v.value ?? null) as JsonValue, type };
    } else {
      out[name] = { value: v as JsonValue, type: shorthandType(v) };
    }
  }
  return out;
}
