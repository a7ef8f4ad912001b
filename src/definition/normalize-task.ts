/**
 * One raw task → its canonical TaskDef (normalize.ts does the workflow around it): what every task has (ids, retry
 * policy, flow control, station) and the fields of each type, each falling back to its default when wrong.
 */
import { parseLevel } from '../authority/index.js';
import { isObj } from './issues.js';
import { stationQueue } from './task-handlers.js';
import { httpTask } from './http.js';
import { forkDynamicTask } from './fork-dynamic.js';
import {
  compact,
  duration,
  idList,
  int,
  isDefaultCase,
  map,
  oneOf,
  outputSpec,
  type Raw,
  rebuilt,
  str,
  taskTypeOf,
} from './normalize-values.js';
import type {
  BackoffStrategy,
  DecisionCase,
  HumanTimeoutAction,
  RetryPolicy,
  TaskBase,
  TaskDef,
  TriggerRule,
} from './task-types.js';

/** `requires:` as a sorted list of distinct skills (undefined when absent or empty: no routing). */
function skillList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const skills = [...new Set(v.filter((s): s is string => typeof s === 'string'))].sort();
  return skills.length > 0 ? skills : undefined;
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

export function task(t: Raw, index: number): TaskDef | null {
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
      return rebuilt({ ...base, type, approvers, onTimeout, ...waitForever(t) });
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
        ...waitForever(t),
      });
    case 'SUB_WORKFLOW':
      return compact({
        ...base,
        type,
        workflow: str(t.workflow) ?? '',
        version: int(t.version, 1),
        ...(t.wait === false ? { wait: false as const } : {}),
      });
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
    case 'FORK_DYNAMIC':
      return forkDynamicTask(base as TaskBase, t);
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

/** `wait_forever: true` of a HUMAN or WAIT; nothing when false or absent, so older definitions hash as they did. */
function waitForever(t: Raw): { waitForever?: true } {
  return t.wait_forever === true ? { waitForever: true } : {};
}
