/**
 * The Prometheus side: a prom-client Registry of its own (never the global default, so an application embedding
 * ledgerflow keeps its own), fed with the facts of each commit (derive.ts). Counters and histograms add what a commit
 * says; the gauges sum, per workflow, what each active run this process saw last holds.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { promClient } from './prom.js';
import type { Fact } from './derive.js';
import { trimOldest } from '../bounded.js';

/** Seconds: a run may take from a blink to days (approvals, far timers). */
const RUN_DURATION_BUCKETS = [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600];
/** Seconds: one attempt of a handler, a command or a child run. */
const ATTEMPT_DURATION_BUCKETS = [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300, 1800, 3600];

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
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: L[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers });
    const runsSettled = (status: 'COMPLETED' | 'FAILED' | 'CANCELLED') =>
      counter(`ledgerflow_runs_${status.toLowerCase()}_total`, `Runs that settled ${status}`, ['workflow']);
    this.runsStarted = counter(
      'ledgerflow_runs_started_total',
      'Runs started (counted when their first step is committed)',
      ['workflow'],
    );
    this.runsCompleted = runsSettled('COMPLETED');
    this.runsFailed = runsSettled('FAILED');
    this.runsCancelled = runsSettled('CANCELLED');
    this.runDuration = histogram(
      'ledgerflow_run_duration_seconds',
      'Run duration from run.started to the settling event (execution_time)',
      RUN_DURATION_BUCKETS,
      ['workflow', 'status'],
    );
    this.attempts = counter(
      'ledgerflow_task_attempts_total',
      'Task attempts started (retry_count: see ledgerflow_task_retries_total)',
      ['workflow', 'task'],
    );
    this.retries = counter('ledgerflow_task_retries_total', 'Task attempts after the first (retry_count)', [
      'workflow',
      'task',
    ]);
    this.outcomes = counter(
      'ledgerflow_task_outcomes_total',
      'Task attempts ended, by outcome (completed, failed, timed_out, cancelled); task_success_rate = completed / all',
      ['workflow', 'task', 'outcome'],
    );
    this.attemptDuration = histogram(
      'ledgerflow_task_attempt_duration_seconds',
      'Task attempt duration from task.started to its outcome (execution_time)',
      ATTEMPT_DURATION_BUCKETS,
      ['workflow', 'task', 'outcome'],
    );
    this.notifications = counter(
      'ledgerflow_notifications_total',
      'Notification deliveries noted in run histories by this process, by status notified (on) and outcome (sent, dead_lettered)',
      ['workflow', 'on', 'outcome'],
    );
    this.tasksSettled = counter(
      'ledgerflow_tasks_settled_total',
      'Tasks that reached an end of their own, by status (COMPLETED, FAILED, TIMED_OUT): task_success_rate = COMPLETED / all',
      ['workflow', 'task', 'status'],
    );
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
