/**
 * Raw YAML shape → canonical Definition. Deliberately lenient: it runs even when the schema found errors (a wrong value
 * falls back to its default), so the graph checks can still report their problems in the same pass. The result is only
 * returned to callers when there are no errors.
 */
import { isObj } from './issues.js';
import { SEARCH_TYPES, shorthandType } from './search.js';
import { compact, duration, idList, int, map, oneOf, outputSpec, type Raw, str } from './normalize-values.js';
import { task } from './normalize-task.js';
import { inlineLimitOf } from './payloads.js';
import type { JsonValue } from './task-types.js';
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

/** `retention:` in milliseconds; absent when the file has none, so older definitions hash as they did. */
function retention(wf: Raw): Pick<Definition, 'retentionMs'> {
  const retentionMs = duration(wf.retention);
  return retentionMs === undefined ? {} : { retentionMs };
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
    inlineLimit: inlineLimitOf(wf.payloads),
    ...retention(wf),
    search: searchDecls(wf.search),
    properties: properties(wf.properties),
  });
}

/** `properties:` with every list a list (a single task id may be written bare). */
function properties(raw: unknown): Definition['properties'] {
  if (!isObj(raw)) return undefined;
  const before = isObj(raw.always_before) ? raw.always_before : {};
  return {
    atMostOnce: idList(raw.at_most_once),
    alwaysBefore: Object.fromEntries(Object.entries(before).map(([task, v]) => [task, idList(v)])),
    neverTogether: Array.isArray(raw.never_together) ? raw.never_together.map(idList) : [],
    eventually: idList(raw.eventually),
  };
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
