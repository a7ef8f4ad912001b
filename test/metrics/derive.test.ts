/**
 * Metrics and spans derived from committed events (src/metrics), fed the
 * commits of golden histories one by one as a driver would: the pure facts,
 * the registry's samples, and the spans an OpenTelemetry SDK receives.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { createMetrics, deriveFacts, noteFacts, runTraceIds, type Fact } from '../../src/metrics/index.js';
import { foldEvents, foldOntoRun, prepareCommit, type RunSnapshot } from '../../src/runtime/index.js';
import { ROOT } from '../helpers/cli.js';

const HISTORIES = join(ROOT, 'test', 'fixtures', 'histories');
/** compute_metrics times out (30 s), is retried after 1 s and completes; update_plan; an approval; apply_plan. */
const RETRIED = join(HISTORIES, 'revenue_milestone', 'compute_metrics-times-out-then-succeeds-on-retry.jsonl');

interface Commit {
  events: EventEnvelope[];
  before: RunSnapshot;
  after: RunSnapshot;
}

/** The history's commits with the state before and after each, as onCommit gets them (the start commit's before is its own after). */
function commitsOf(file: string): Commit[] {
  const groups = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
  const { compiled, snapshot } = foldEvents(groups[0]!);
  const commits: Commit[] = [];
  let state = snapshot;
  for (const events of groups.slice(1)) {
    const after = foldOntoRun(compiled, state, events).snapshot;
    commits.push({ events, before: state, after });
    state = after;
  }
  return commits;
}

/** Facts of every commit, with the attempt starts remembered across commits as the adapter does. */
function factsOf(commits: Commit[]): Fact[] {
  const starts = new Map<string, string>();
  return commits.flatMap((c) => {
    const facts = deriveFacts(c.events, c.before, c.after, (k) => starts.get(k));
    for (const f of facts) if (f.kind === 'attempt.started') starts.set(`${f.instance}/${f.attempt}`, f.startedAt);
    return facts;
  });
}

describe('facts of committed events (pure)', () => {
  it("counts no attempt for a retry's reused tasks: their outputs came from the run it retries", () => {
    const file = join(HISTORIES, 'lead_qualification', 'scenario-retried-after-failure.jsonl');
    const groups = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
    // The start commit holds run.started, the reused score_lead and the first real attempt.
    const { compiled, snapshot: started } = foldEvents(groups[0]!.slice(0, 1));
    let state = started;
    const commits: Commit[] = [];
    for (const events of [groups[0]!.slice(1), ...groups.slice(1)]) {
      const after = foldOntoRun(compiled, state, events).snapshot;
      commits.push({ events, before: state, after });
      state = after;
    }
    const facts = factsOf(commits);
    expect(facts.filter((f) => f.kind === 'attempt.started').map((f) => f.task)).toEqual([
      'compute_value',
      'register_opportunity',
    ]);
    expect(facts.filter((f) => f.kind === 'attempt.ended').map((f) => f.task)).toEqual([
      'compute_value',
      'register_opportunity',
    ]);
  });

  it('counts the start once, each attempt with its retry, the timed-out and completed outcomes with their durations, and the settlement', () => {
    const facts = factsOf(commitsOf(RETRIED));
    expect(facts.filter((f) => f.kind === 'run.started')).toHaveLength(1);
    const started = facts.filter((f) => f.kind === 'attempt.started').map((f) => `${f.task}#${f.attempt}`);
    expect(started).toEqual(['compute_metrics#1', 'compute_metrics#2', 'update_plan#1', 'apply_plan#1']);
    const ended = facts.flatMap((f) =>
      f.kind === 'attempt.ended' ? [[f.task, f.attempt, f.outcome, f.seconds, f.errorCode ?? null]] : [],
    );
    expect(ended).toEqual([
      ['compute_metrics', 1, 'timed_out', 30, 'LF_TIMEOUT'],
      ['compute_metrics', 2, 'completed', 0, null],
      ['update_plan', 1, 'completed', 0, null],
      ['apply_plan', 1, 'completed', 0, null],
    ]);
    const settled = facts.filter((f) => f.kind === 'run.settled');
    expect(settled).toMatchObject([
      {
        workflow: 'revenue_milestone',
        status: 'COMPLETED',
        seconds: 31,
        startedAt: '2026-01-01T00:00:00.000Z',
        endedAt: '2026-01-01T00:00:31.000Z',
      },
    ]);
    // The approval waits after update_plan, and nothing is held once the run settled.
    const holds = facts.filter((f) => f.kind === 'run.holds');
    expect(holds.some((h) => h.approvalsWaiting === 1)).toBe(true);
    expect(holds.at(-1)).toMatchObject({ settled: true, approvalsWaiting: 0, timersPending: 0 });
  });

  it('holds a timer pending while the attempt runs under its timeout and while the retry backs off', () => {
    const commits = commitsOf(RETRIED);
    const timers = commits
      .map((c) => deriveFacts(c.events, c.before, c.after).find((f) => f.kind === 'run.holds')!)
      .map((h) => (h.kind === 'run.holds' ? h.timersPending : -1));
    expect(timers.slice(0, 3)).toEqual([1, 1, 1]); // timeout armed; backoff armed; attempt 2's timeout armed
  });

  it('counts the start in the commit holding event seq 2, also when run.started shares it', () => {
    const commits = commitsOf(RETRIED);
    const [first] = commits;
    expect(
      deriveFacts(first!.events, first!.before, first!.after).filter((f) => f.kind === 'run.started'),
    ).toHaveLength(1);
    // Later commits never count it again.
    expect(
      commits
        .slice(1)
        .flatMap((c) => deriveFacts(c.events, c.before, c.after))
        .filter((f) => f.kind === 'run.started'),
    ).toHaveLength(0);
  });

  it("counts a retry started by a NATS client once, in the first commit an engine appends: the client's start commit holds seq 2 (the reused completions)", () => {
    const file = join(HISTORIES, 'lead_qualification', 'scenario-retried-after-failure.jsonl');
    const [start, ...rest] = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
    // ClusterClient.retry commits run.started and the reused score_lead (seq 1-3); the engine then starts compute_value (seq 4).
    const client = start!.filter(
      (e) => e.type === 'run.started' || (e.data as { reused?: unknown }).reused !== undefined,
    );
    expect(client.map((e) => e.seq)).toEqual([1, 2, 3]);
    const { compiled, snapshot } = foldEvents(client);
    let state = snapshot;
    const engine: Commit[] = [];
    for (const events of [start!.filter((e) => !client.includes(e)), ...rest]) {
      const after = foldOntoRun(compiled, state, events).snapshot;
      engine.push({ events, before: state, after });
      state = after;
    }
    expect(engine[0]!.events.map((e) => e.seq)).toEqual([4]);
    const facts = engine.map((c) => deriveFacts(c.events, c.before, c.after).filter((f) => f.kind === 'run.started'));
    expect(facts.map((f) => f.length)).toEqual([1, 0, 0]);
    expect(facts[0]).toEqual([
      {
        kind: 'run.started',
        runId: 'golden-retried-lead',
        workflow: 'lead_qualification',
        version: 1,
        startedAt: '2026-01-01T01:00:00.000Z',
      },
    ]);
    // The client's own commit, were it seen, would not count it: nothing of the run's own has happened in it yet.
    const { snapshot: bare } = foldEvents(client.slice(0, 1));
    expect(deriveFacts(client.slice(1), bare, snapshot).filter((f) => f.kind === 'run.started')).toEqual([]);
  });

  it('counts every golden history started exactly once over its commits, the start commit included', () => {
    const files = readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.jsonl') && !f.startsWith('altered'),
    );
    expect(files.length).toBeGreaterThan(100);
    const counts = new Map<string, number>();
    for (const f of files) {
      const groups = readFileSync(join(HISTORIES, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
      const { compiled, snapshot } = foldEvents(groups[0]!.slice(0, 1));
      let state = snapshot;
      let n = 0;
      // The start commit's `before` is the state run.started made, as Engine.run hands it to onCommit.
      for (const [i, events] of groups.entries()) {
        const mine = i === 0 ? events.slice(1) : events;
        const after = foldOntoRun(compiled, state, mine).snapshot;
        n += deriveFacts(i === 0 ? events : mine, state, after).filter((x) => x.kind === 'run.started').length;
        state = after;
      }
      counts.set(f, n);
    }
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  });

  it("leaves the duration of a retry whose start this process did not see unknown, and reads a first attempt's from the state", () => {
    // Each commit alone, without the memory of earlier ones (another engine recorded the starts).
    const ends = commitsOf(RETRIED)
      .flatMap((c) => deriveFacts(c.events, c.before, c.after))
      .filter((f) => f.kind === 'attempt.ended');
    expect(ends.map((f) => (f.kind === 'attempt.ended' ? [f.task, f.attempt, f.startedAt, f.seconds] : null))).toEqual([
      ['compute_metrics', 1, '2026-01-01T00:00:00.000Z', 30], // a task's startedAt is its first attempt's
      ['compute_metrics', 2, null, null], // started in an earlier commit: not seen, not guessed
      ['update_plan', 1, '2026-01-01T00:00:31.000Z', 0], // a first attempt: the task's startedAt
      ['apply_plan', 1, '2026-01-01T00:00:31.000Z', 0],
    ]);
  });

  it('ends an attempt still running when the run is cancelled as cancelled, and counts the run cancelled', () => {
    const commits = commitsOf(RETRIED);
    const { compiled } = foldEvents(
      readFileSync(RETRIED, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events)[0]!,
    );
    const running = commits[0]!.after; // compute_metrics attempt 1 in flight
    const cancel = prepareCommit(
      compiled,
      running,
      2,
      [{ type: 'run.cancelled', time: '2026-01-01T00:00:05.000Z', data: { by: 'ops' } }],
      Date.parse('2026-01-01T00:00:05.000Z'),
    );
    const facts = deriveFacts(cancel.events, running, cancel.snapshot, () => '2026-01-01T00:00:00.000Z');
    expect(facts.find((f) => f.kind === 'attempt.ended')).toMatchObject({
      task: 'compute_metrics',
      attempt: 1,
      outcome: 'cancelled',
      seconds: 5,
    });
    expect(facts.find((f) => f.kind === 'run.settled')).toMatchObject({ status: 'CANCELLED', seconds: 5 });
  });
});

describe('registry and spans fed through createMetrics().hooks.onCommit', () => {
  it('exposes counters and histograms with workflow and task labels', async () => {
    const metrics = createMetrics();
    for (const c of commitsOf(RETRIED)) metrics.hooks.onCommit(c.events, c.before, c.after);
    const text = await metrics.text();
    expect(text).toContain('ledgerflow_runs_started_total{workflow="revenue_milestone"} 1');
    expect(text).toContain('ledgerflow_runs_completed_total{workflow="revenue_milestone"} 1');
    expect(text).toContain('ledgerflow_task_attempts_total{workflow="revenue_milestone",task="compute_metrics"} 2');
    expect(text).toContain('ledgerflow_task_retries_total{workflow="revenue_milestone",task="compute_metrics"} 1');
    expect(text).toContain(
      'ledgerflow_task_outcomes_total{workflow="revenue_milestone",task="compute_metrics",outcome="timed_out"} 1',
    );
    expect(text).toContain(
      'ledgerflow_task_attempt_duration_seconds_sum{workflow="revenue_milestone",task="compute_metrics",outcome="timed_out"} 30',
    );
    expect(text).toContain('ledgerflow_run_duration_seconds_sum{workflow="revenue_milestone",status="COMPLETED"} 31');
    expect(text).toContain('ledgerflow_approvals_waiting{workflow="revenue_milestone"} 0');
    // Its own registry: prom-client's global one holds none of them.
    const { register } = await import('prom-client');
    expect(await register.metrics()).not.toContain('ledgerflow_');
  });

  it("counts the notification notes a notifier appended (onNoted) by workflow, status and outcome; notes in a driver's commits count nothing", async () => {
    const file = join(HISTORIES, 'revenue_milestone', 'scenario-notified-after-settling.jsonl');
    const events = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
    const notes = events.filter((e) => e.type.startsWith('notification.'));
    expect(noteFacts(events)).toEqual([
      {
        kind: 'notification',
        runId: events[0]!.runId,
        workflow: 'revenue_milestone',
        on: 'WAITING',
        outcome: 'dead_lettered',
      },
      {
        kind: 'notification',
        runId: events[0]!.runId,
        workflow: 'revenue_milestone',
        on: 'COMPLETED',
        outcome: 'sent',
      },
    ]);
    const metrics = createMetrics();
    // The same history through onCommit (as a driver reading another writer's notes would see it): not counted there.
    for (const c of commitsOf(file)) metrics.hooks.onCommit(c.events, c.before, c.after);
    expect(await metrics.text()).not.toMatch(/^ledgerflow_notifications_total\{/m);
    for (const n of notes) metrics.hooks.onNoted([n]);
    const text = await metrics.text();
    expect(text).toContain(
      'ledgerflow_notifications_total{workflow="revenue_milestone",on="WAITING",outcome="dead_lettered"} 1',
    );
    expect(text).toContain(
      'ledgerflow_notifications_total{workflow="revenue_milestone",on="COMPLETED",outcome="sent"} 1',
    );
  });

  it('records a span per attempt as children of the run span, in the trace derived from the run id', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const metrics = createMetrics({ tracer: provider.getTracer('ledgerflow') });
    for (const c of commitsOf(RETRIED)) metrics.hooks.onCommit(c.events, c.before, c.after);
    const spans = exporter.getFinishedSpans();
    const { traceId, spanId } = runTraceIds('lf-path');
    const run = spans.find((s) => s.name === 'run revenue_milestone')!;
    expect(run.spanContext().traceId).toBe(traceId);
    expect(run.parentSpanContext?.spanId).toBe(spanId);
    expect(new Date(run.startTime[0] * 1000 + run.startTime[1] / 1e6).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(run.attributes).toMatchObject({
      'ledgerflow.run.id': 'lf-path',
      'ledgerflow.run.status': 'COMPLETED',
      'ledgerflow.run.settled': true,
    });
    const attempts = spans.filter((s) => s.name === 'task compute_metrics');
    expect(
      attempts.map((s) => [
        s.attributes['ledgerflow.task.attempt'],
        s.attributes['ledgerflow.task.outcome'],
        s.attributes['ledgerflow.error.code'] ?? null,
      ]),
    ).toEqual([
      [1, 'timed_out', 'LF_TIMEOUT'],
      [2, 'completed', null],
    ]);
    for (const s of spans.filter((x) => x.name.startsWith('task '))) {
      expect(s.spanContext().traceId).toBe(traceId);
      expect(s.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    }
    const first = attempts[0]!;
    expect(first.endTime[0] - first.startTime[0] + (first.endTime[1] - first.startTime[1]) / 1e9).toBe(30);
    expect(first.status.code).toBe(2); // ERROR
  });

  it("keeps nothing and records nothing when no SDK is installed (the API's no-op tracer)", async () => {
    const metrics = createMetrics();
    for (const c of commitsOf(RETRIED).slice(0, 2)) metrics.hooks.onCommit(c.events, c.before, c.after);
    metrics.close(); // nothing open to end
    expect(await metrics.text()).toContain('ledgerflow_task_attempts_total');
  });
});
