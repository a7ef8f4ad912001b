/**
 * Metrics and traces (docs/dashboard.md "Metrics and traces"): committed events → facts (derive.ts, pure) → a
 * prom-client Registry of ledgerflow's own (registry.ts) and OpenTelemetry spans (tracing.ts). One `createMetrics()`
 * per process; its `hooks` go to an Engine (embedded store) or a ClusterEngine (NATS) as `onCommit`.
 */
import type { Tracer } from '@opentelemetry/api';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Registry } from 'prom-client';
import { promClient } from './prom.js';
import type { EventEnvelope } from '../events/index.js';
import type { RunSnapshot } from '../runtime/index.js';
import { readQueueBacklog } from './backlog.js';
import { attemptKey, deriveFacts, holdsFact, noteFacts } from './derive.js';
import { RunMetrics } from './registry.js';
import { RunTracer } from './tracing.js';
import { errorMessage } from '../errors/index.js';
import { trimOldest } from '../bounded.js';

export { deriveFacts, noteFacts, TASK_ENDS, type TaskEnd, type Fact, type AttemptOutcome } from './derive.js';
export { runTraceIds, TRACER_NAME } from './tracing.js';
export { serveMetrics, metricsListenFlags, type MetricsServer } from './http.js';
export { reportActiveRuns, showActiveRuns } from './pick-up.js';

export type CommitHook = (events: EventEnvelope[], before: RunSnapshot, after: RunSnapshot) => void;
/** Notes (notification.sent / dead_lettered) this process appended: a Notifier's `onNoted`. */
export type NotedHook = (events: EventEnvelope[]) => void;

export interface MetricsOptions {
  /** A prom-client Registry to register in (default: a new one; never prom-client's global one). */
  registry?: Registry;
  /** The tracer spans go to (default: `@opentelemetry/api`'s global tracer `ledgerflow`: a no-op until an SDK is registered). */
  tracer?: Tracer;
  /** Where problems are said (a commit the metrics could not read, a backlog read that failed); they never fail a run. */
  log?: (line: string) => void;
  /**
   * prom-client's default collectors (`collectDefaultMetrics`: process CPU, memory, file descriptors, event loop lag,
   * GC, heap, Node.js version) on this registry, with prom-client's own `prefix` and `labels` options. Default: on when
   * ledgerflow makes the registry, off when you give one (your application may collect them there already, and a second
   * collector of the same names is refused).
   */
  defaultMetrics?: boolean | { prefix?: string; labels?: Record<string, string> };
}

export interface LedgerflowMetrics {
  readonly registry: Registry;
  /** Give to `new Engine({ ...metrics.hooks })` or `new ClusterEngine({ ...metrics.hooks })`; `onNoted` also to `new Notifier({ onNoted })` (an Engine's notifier is yours). */
  readonly hooks: { onCommit: CommitHook; onNoted: NotedHook };
  /** The Content-Type of `text()` (Prometheus text format). */
  readonly contentType: string;
  /** The registry's metrics in Prometheus text format (what `GET /metrics` answers). */
  text(): Promise<string>;
  /**
   * A run this process takes up without a commit (its driver starts on a run already waiting, as after a restart): the
   * gauges show what it holds now. Ignored for a run this process has seen a commit of: that commit is newer.
   */
  observeRun(snapshot: RunSnapshot): void;
  /** Adds `ledgerflow_queue_backlog{queue}` read from NATS at each scrape (engines do this). */
  observeQueues(jsm: JetStreamManager): void;
  /** Adds `ledgerflow_breaker_state{breaker}` (0 closed, 1 half open, 2 open), read from the store at each scrape. */
  observeBreakers(read: () => Promise<readonly { name: string; state: 'closed' | 'open' | 'half_open' }[]>): void;
  /** Ends the run spans still open here (runs that did not settle in this process). */
  close(): void;
}

/** Runs remembered for their attempts' start times, and runs seen committed, at most (oldest forgotten first). */
const MAX_RUNS_REMEMBERED = 100_000;

export function createMetrics(opts: MetricsOptions = {}): LedgerflowMetrics {
  const log = opts.log ?? (() => {});
  const metrics = new RunMetrics(opts.registry);
  const defaults = opts.defaultMetrics ?? opts.registry === undefined;
  if (defaults)
    promClient().collectDefaultMetrics({ register: metrics.registry, ...(defaults === true ? {} : defaults) });
  const tracer = new RunTracer(opts.tracer);
  /** Runs this process saw a commit of: what a later take-up loaded is not newer than that. */
  const committed = new Set<string>();
  /** Start times of attempts in flight, per run: an attempt's outcome is usually in a later commit than its start. */
  const starts = new Map<string, Map<string, string>>();
  const onCommit: CommitHook = (events, before, after) => {
    try {
      const runId = after.context.runId;
      committed.add(runId);
      trimOldest(committed, MAX_RUNS_REMEMBERED);
      const known = starts.get(runId);
      const facts = deriveFacts(events, before, after, (key) => known?.get(key));
      metrics.record(facts);
      tracer.record(facts);
      for (const f of facts) {
        if (f.kind === 'attempt.started') {
          let m = starts.get(runId);
          if (!m) {
            starts.set(runId, (m = new Map()));
            trimOldest(starts, MAX_RUNS_REMEMBERED);
          }
          m.set(attemptKey(f.instance, f.attempt), f.startedAt);
        } else if (f.kind === 'attempt.ended') starts.get(runId)?.delete(attemptKey(f.instance, f.attempt));
        else if (f.kind === 'run.holds' && f.settled) starts.delete(runId);
      }
    } catch (err) {
      // Metrics are derived and can be thrown away; a run is never failed by them.
      log(`metrics: commit of run ${after.context.runId} not counted: ${errorMessage(err)}`);
    }
  };
  const onNoted: NotedHook = (events) => {
    try {
      metrics.record(noteFacts(events));
    } catch (err) {
      log(`metrics: notification notes not counted: ${errorMessage(err)}`);
    }
  };
  const registry = metrics.registry;
  /** A gauge read at each scrape, one value per label; when it cannot be read the other metrics are still worth scraping: it is left out of that scrape, and said. */
  const scraped = (
    name: string,
    help: string,
    label: string,
    what: string,
    read: () => Promise<[string, number][]>,
  ) => {
    new (promClient().Gauge)({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const [key, n] of await read()) this.set({ [label]: key }, n);
        } catch (err) {
          log(`metrics: ${what} not read: ${errorMessage(err)}`);
        }
      },
    });
  };
  return {
    registry,
    hooks: { onCommit, onNoted },
    contentType: registry.contentType,
    text: () => registry.metrics(),
    observeRun(snapshot) {
      try {
        if (!committed.has(snapshot.context.runId)) metrics.record([holdsFact(snapshot)]);
      } catch (err) {
        log(`metrics: run ${snapshot.context.runId} taken up not shown: ${errorMessage(err)}`);
      }
    },
    observeQueues(jsm) {
      scraped(
        'ledgerflow_queue_backlog',
        'Task attempts waiting for a worker in their queue stream (LF_TASKS_<queue>), per queue (NATS)',
        'queue',
        'queue backlog',
        async () => [...(await readQueueBacklog(jsm))],
      );
    },
    observeBreakers(read) {
      const value = { closed: 0, half_open: 1, open: 2 } as const;
      scraped(
        'ledgerflow_breaker_state',
        "Each circuit breaker's state, shared by every process of the store: 0 closed, 1 half open, 2 open",
        'breaker',
        'breakers',
        async () => (await read()).map((b) => [b.name, value[b.state]]),
      );
    },
    close: () => tracer.close(),
  };
}
