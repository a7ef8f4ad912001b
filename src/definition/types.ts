/**
 * The canonical, normalised form of a workflow definition. The YAML may use the older aliases (backoff /
 * backoff_strategy, next / next_tasks, a string or a list, output as a list or a map); after normalisation there is one
 * shape. Plain JSON only: a Definition is recorded in each run's `run.started` event, so replay never depends on the
 * file it came from. This file holds the workflow level; the tasks are in task-types.ts.
 */
import type { JsonValue, OutputSpec, TaskDef } from './task-types.js';

/** A search attribute's type (definition/search.ts SEARCH_TYPES lists them). */
export type SearchType = 'string' | 'number' | 'bool' | 'time';
/** A search attribute's value as the run records it: a time is an ISO 8601 UTC text (so that text order is time order). */
export type SearchValue = string | number | boolean;
/** `search:` entry, normalized: the value (a template, text, number or boolean) and its type. */
export interface SearchAttrDecl {
  value: JsonValue;
  type: SearchType;
}

export type InputType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'any';
export interface InputDecl {
  name: string;
  required: boolean;
  /** Declared, or inferred from the default; 'any' when neither says. */
  type: InputType;
  default?: JsonValue;
  description?: string;
}

/**
 * An event type: NATS-subject-safe tokens separated by dots (`revenue_milestone`, `crm.lead.created`). It also names
 * its schema file, `events/<type>.yaml`.
 */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** `debounce:` of an event trigger: one run, with the last event of a burst, `periodMs` after its last event (per `key`). */
export interface TriggerDebounce {
  periodMs: number;
  key?: string;
}
/** `throttle:` of an event trigger: at most `limit` starts in any span of `perMs` (per `key`); the rest queue or are dropped. */
export interface TriggerThrottle {
  limit: number;
  perMs: number;
  key?: string;
  onLimit: 'queue' | 'drop';
}
export interface EventTrigger {
  kind: 'event';
  event: string;
  filter?: string;
  input: Record<string, JsonValue>;
  debounce?: TriggerDebounce;
  throttle?: TriggerThrottle;
}
/** What a schedule does with slots that passed while nothing fired them (docs/library.md). */
export type CatchUp = 'none' | 'latest' | 'all';
export const CATCH_UP_MODES: readonly CatchUp[] = ['none', 'latest', 'all'];
/** `cron`: 5 or 6 fields or a nickname, read in `timezone` (IANA; default UTC). */
export interface ScheduleTrigger {
  kind: 'schedule';
  cron: string;
  timezone: string;
  catchUp: CatchUp;
  input: Record<string, JsonValue>;
}
export type Trigger = EventTrigger | ScheduleTrigger;

export interface FailureWorkflow {
  id: string;
  steps: string[];
  input: Record<string, JsonValue>;
}

/** What a notification rule reacts to: a run status reached, or (RETRIED) a task's attempt number reaching `retriedAtLeast`. */
export const NOTIFY_ON = ['FAILED', 'WAITING', 'COMPLETED', 'CANCELLED', 'RETRIED'] as const;
export type NotifyOnName = (typeof NOTIFY_ON)[number];
/** With RETRIED and no `retried_at_least`: the first retry (attempt 2). */
export const DEFAULT_RETRIED_AT_LEAST = 2;

/**
 * A `notifications:` rule (src/notify): on which changes, to which targets. `nats`: publish on
 * lf.notify.<workflow>.<status>; `webhook`: POST a JSON body there (http or https), with `headers` added.
 */
export interface NotificationRule {
  /** Empty for a rule that only names a role (sent to by the failure handler's notify_commander, never on a status). */
  on: NotifyOnName[];
  /** Who the target reaches (`role:`): notify_commander sends to the targets of role `commander`. */
  roles?: string[];
  /** Set exactly when `on` has RETRIED. */
  retriedAtLeast?: number;
  nats: boolean;
  webhook?: string;
  headers?: Record<string, string>;
}

/**
 * What a start with a caller-chosen run id does when that id already has a run: `reject_duplicate` returns that run
 * (never a second), `allow_after_failure` starts a new one once it settled FAILED or CANCELLED, `allow` once it settled
 * in any way. A run still going is always returned, never forked.
 */
export const ID_REUSE_POLICIES = ['reject_duplicate', 'allow_after_failure', 'allow'] as const;
export type IdReusePolicy = (typeof ID_REUSE_POLICIES)[number];

/** `concurrency.on_limit:` what a start beyond the limit does (docs/limits.md#concurrency-limits-and-priority). */
export const ON_LIMIT = ['queue', 'refuse'] as const;
export type OnLimit = (typeof ON_LIMIT)[number];
/** `priority:` when none is given (workflow or start): the middle, so a start can be put before or after the rest. */
export const DEFAULT_PRIORITY = 50;
export const MAX_PRIORITY = 99;

/** `concurrency:` at most `limit` runs (per value of the `key` template) RUNNING, WAITING or PAUSED at once. */
export interface ConcurrencySpec {
  limit: number;
  key?: string;
  onLimit: OnLimit;
}

/** What a run past its workflow `timeout:` becomes: FAILED (`fail`, the default) or CANCELLED. */
/**
 * The figures `monitoring.metrics:` may name (docs/metrics.md#per-workflow-figures): each is computed per workflow by
 * `ledgerflow stats`, the dashboard's definition page and GET /api/definitions/:id/stats, and answered by a Prometheus
 * series. A name outside this list is a definition error, not a figure silently never shown.
 */
export const MONITORING_METRICS = ['execution_time', 'task_success_rate', 'retry_count', 'failure_rate'] as const;
export type MonitoringMetric = (typeof MONITORING_METRICS)[number];

export const RUN_TIMEOUT_POLICIES = ['fail', 'cancel'] as const;
export type RunTimeoutPolicy = (typeof RUN_TIMEOUT_POLICIES)[number];

/**
 * `properties:` what must hold on every path of the workflow (`ledgerflow verify`, docs/verify.md): tasks that run at
 * most once, tasks that run only after others completed, tasks that never both run, tasks every completed run ran.
 */
export interface WorkflowProperties {
  atMostOnce: string[];
  /** task → the tasks that must have completed before it runs. */
  alwaysBefore: Record<string, string[]>;
  /** Groups of tasks of which no two run on one path. */
  neverTogether: string[][];
  eventually: string[];
}

export interface Definition {
  id: string;
  name: string;
  version: number;
  description?: string;
  /** The domain whose Station OPS (L2) may start its runs (authority/levels.ts). */
  domain?: string;
  inputs: InputDecl[];
  output: OutputSpec;
  tasks: TaskDef[];
  failureWorkflow?: FailureWorkflow;
  /** Kept as written; informational. */
  monitoring?: Record<string, JsonValue>;
  triggers: Trigger[];
  /** Handler module path, relative to the definition file. */
  handlers?: string;
  /** `id_reuse:` (docs/runs.md#caller-chosen-run-ids); absent when the file has none (the default, reject_duplicate), so older definitions hash as they did. */
  idReuse?: IdReusePolicy;
  /** `concurrency:` (docs/limits.md#concurrency-limits-and-priority); absent when the file has none, so older definitions hash as they did. */
  concurrency?: ConcurrencySpec;
  /** `priority:` 0..99 (higher is admitted first); absent when the file has none (DEFAULT_PRIORITY). */
  priority?: number;
  /** `notifications:` (src/notify); absent when the file has none, so older definitions hash as they did. */
  notifications?: NotificationRule[];
  /** `timeout:` / `timeout_policy:` (docs/runs.md#run-timeouts); both absent when the file has no timeout, so older definitions hash as they did. */
  timeoutMs?: number;
  timeoutPolicy?: RunTimeoutPolicy;
  /** `payloads.inline_limit:` in bytes (docs/language.md#large-payloads); absent when the file has none (256 KiB), so older definitions hash as they did. */
  inlineLimit?: number;
  /** `retention:` (docs/retention.md): how long a settled run stays live; absent when the file has none, so older definitions hash as they did. */
  retentionMs?: number;
  /** `search:` (docs/operations.md#search-attributes); absent when the file has none, so older definitions hash as they did. */
  search?: Record<string, SearchAttrDecl>;
  /** `properties:` (docs/verify.md); absent when the file has none, so older definitions hash as they did. */
  properties?: WorkflowProperties;
}
