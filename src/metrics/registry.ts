/**
 * The Prometheus side: a prom-client Registry of its own (never the global
 * default, so an application embedding ledgerflow keeps its own), fed with
 * the facts of each commit (derive.ts). Counters and histograms add what a
 * commit says; the gauges sum, per workflow, what each active run this
 * process saw last holds.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { promClient } from './prom.js';
import type { Fact } from './derive.js';
import { trimOldest } from '../bounded.js';

/** Seconds: a run may take from a blink to days (approvals, far timers). */
export const RUN_DURATION_BUCKETS = [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600];
/** Seconds: one attempt of a handler, a command or a child run. */
export const ATTEMPT_DURATION_BUCKETS = [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300, 1800, 3600];

/** Runs held for the gauges at most: past it the oldest seen is forgotten (a run whose last commit another process made). */
const MAX_HELD_RUNS = 100_000;

export class RunMetrics {
  readonly registry: Registry;
  private readonly runsStarted: Counter<'workflow'>;
  private readonly runsCompleted: Counter<'workflow'>;
  private readonly runsFailed: Counter<'workflow'>;
  private readonly runsCancelled: Counter<'workflow'>;
  private readonly runDuration: Histogram<'workflow' | 'status'>;
  private readonly attempts: Counter<'workflow' | 'task'>;
  private readonly retries: Counter<'workflow' | 'task'>;
  private readonly outcomes: Counter<'workflow' | 'task' | 'outcome'>;
  private readonly attemptDuration: Histogram<'workflow' | 'task' | 'outcome'>;
  private readonly notifications: Counter<'workflow' | 'on' | 'outcome'>;
  private readonly tasksSettled: Counter<'workflow' | 'task' | 'status'>;
  /** Per workflow and task, the tasks this process saw end and how many completed: the success ratio gauge's source. */
  private readonly taskEnds = new Map<string, { workflow: string; task: string; completed: number; settled: number }>();
  /** Per active run, what it held after the last commit this process saw (insertion order: oldest first). */
  private readonly held = new Map<string, { workflow: string; approvalsWaiting: number; timersPending: number }>();
  private readonly workflows = new Set<string>();

  constructor(registry: Registry = new (promClient().Registry)()) {
    const { Counter, Gauge, Histogram } = promClient();
    this.registry = registry;
    const registers = [registry];
    this.runsStarted = new Counter({
      name: 'ledgerflow_runs_started_total',
      help: 'Runs started (counted when their first step is committed)',
      labelNames: ['workflow'],
      registers,
    });
    this.runsCompleted = new Counter({
      name: 'ledgerflow_runs_completed_total',
      help: 'Runs that settled COMPLETED',
      labelNames: ['workflow'],
      registers,
    });
    this.runsFailed = new Counter({
      name: 'ledgerflow_runs_failed_total',
      help: 'Runs that settled FAILED',
      labelNames: ['workflow'],
      registers,
    });
    this.runsCancelled = new Counter({
      name: 'ledgerflow_runs_cancelled_total',
      help: 'Runs that settled CANCELLED',
      labelNames: ['workflow'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'ledgerflow_run_duration_seconds',
      help: 'Run duration from run.started to the settling event (execution_time)',
      labelNames: ['workflow', 'status'],
      buckets: RUN_DURATION_BUCKETS,
      registers,
    });
    this.attempts = new Counter({
      name: 'ledgerflow_task_attempts_total',
      help: 'Task attempts started (retry_count: see ledgerflow_task_retries_total)',
      labelNames: ['workflow', 'task'],
      registers,
    });
    this.retries = new Counter({
      name: 'ledgerflow_task_retries_total',
      help: 'Task attempts after the first (retry_count)',
      labelNames: ['workflow', 'task'],
      registers,
    });
    this.outcomes = new Counter({
      name: 'ledgerflow_task_outcomes_total',
      help: 'Task attempts ended, by outcome (completed, failed, timed_out, cancelled); task_success_rate = completed / all',
      labelNames: ['workflow', 'task', 'outcome'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'ledgerflow_task_attempt_duration_seconds',
      help: 'Task attempt duration from task.started to its outcome (execution_time)',
      labelNames: ['workflow', 'task', 'outcome'],
      buckets: ATTEMPT_DURATION_BUCKETS,
      registers,
    });
    this.notifications = new Counter({
      name: 'ledgerflow_notifications_total',
      help: 'Notification deliveries noted in run histories by this process, by status notified (on) and outcome (sent, dead_lettered)',
      labelNames: ['workflow', 'on', 'outcome'],
      registers,
    });
    this.tasksSettled = new Counter({
      name: 'ledgerflow_tasks_settled_total',
      help: 'Tasks that reached an end of their own, by status (COMPLETED, FAILED, TIMED_OUT): task_success_rate = COMPLETED / all',
      labelNames: ['workflow', 'task', 'status'],
      registers,
    });
    const taskEnds = this.taskEnds;
    new Gauge({
      name: 'ledgerflow_task_success_ratio',
      help: 'task_success_rate: tasks completed / tasks settled (completed, failed or timed out for good), of those this process saw end',
      labelNames: ['workflow', 'task'],
      registers,
      collect(this: Gauge<'workflow' | 'task'>) {
        this.reset();
        for (const t of taskEnds.values()) this.set({ workflow: t.workflow, task: t.task }, t.completed / t.settled);
      },
    });
    const held = this.held;
    const workflows = this.workflows;
    const sumBy = (field: 'approvalsWaiting' | 'timersPending') =>
      function (this: Gauge<'workflow'>) {
        this.reset();
        // Every workflow seen keeps its series (0 when nothing waits), so a drop to none is a 0, not a gap.
        const totals = new Map<string, number>([...workflows].map((w) => [w, 0]));
        for (const h of held.values()) totals.set(h.workflow, (totals.get(h.workflow) ?? 0) + h[field]);
        for (const [workflow, n] of totals) this.set({ workflow }, n);
      };
    new Gauge({
      name: 'ledgerflow_approvals_waiting',
      help: 'HUMAN tasks waiting for a decision, in the active runs this process drives',
      labelNames: ['workflow'],
      registers,
      collect: sumBy('approvalsWaiting'),
    });
    new Gauge({
      name: 'ledgerflow_timers_pending',
      help: 'Durable timers armed (backoffs, timeouts, approval deadlines, waits), in the active runs this process drives',
      labelNames: ['workflow'],
      registers,
      collect: sumBy('timersPending'),
    });
  }

  record(facts: readonly Fact[]): void {
    for (const f of facts) {
      switch (f.kind) {
        case 'run.started':
          this.runsStarted.inc({ workflow: f.workflow });
          break;
        case 'run.settled': {
          const counter =
            f.status === 'COMPLETED'
              ? this.runsCompleted
              : f.status === 'FAILED'
                ? this.runsFailed
                : this.runsCancelled;
          counter.inc({ workflow: f.workflow });
          this.runDuration.observe({ workflow: f.workflow, status: f.status }, f.seconds);
          break;
        }
        case 'attempt.started':
          this.attempts.inc({ workflow: f.workflow, task: f.task });
          if (f.attempt > 1) this.retries.inc({ workflow: f.workflow, task: f.task });
          break;
        case 'attempt.ended':
          this.outcomes.inc({ workflow: f.workflow, task: f.task, outcome: f.outcome });
          if (f.seconds !== null)
            this.attemptDuration.observe({ workflow: f.workflow, task: f.task, outcome: f.outcome }, f.seconds);
          break;
        case 'task.settled': {
          this.tasksSettled.inc({ workflow: f.workflow, task: f.task, status: f.status });
          const key = JSON.stringify([f.workflow, f.task]);
          const t =
            this.taskEnds.get(key) ??
            this.taskEnds.set(key, { workflow: f.workflow, task: f.task, completed: 0, settled: 0 }).get(key)!;
          t.settled++;
          if (f.status === 'COMPLETED') t.completed++;
          break;
        }
        case 'notification':
          this.notifications.inc({ workflow: f.workflow, on: f.on, outcome: f.outcome });
          break;
        case 'run.holds':
          this.workflows.add(f.workflow);
          this.held.delete(f.runId);
          if (f.settled) break;
          this.held.set(f.runId, {
            workflow: f.workflow,
            approvalsWaiting: f.approvalsWaiting,
            timersPending: f.timersPending,
          });
          trimOldest(this.held, MAX_HELD_RUNS);
          break;
      }
    }
  }
}
