/**
 * OpenTelemetry spans from the facts of each commit, through `@opentelemetry/api` only: with no SDK installed the API's
 * tracer is a no-op and nothing is kept; with one, any exporter the user set up gets them. Times are the log's (event
 * times), never the clock's.
 *
 * - Every span of a run is in one trace whose id is derived from the run id (sha256), so the spans several processes
 *   record for one run (engines on NATS, a serve taking a run over) join. The run's spans in a process hang under a
 *   parent span id derived the same way, which no process exports: a trace viewer shows it as the (missing) root.
 * - `run <workflow>`: opened when this process first sees a commit of the run, starting at the run's run.started time;
 *   ended when the run settles here (at the settling event's time), or, if it never does here, when metrics are closed
 *   or the run is forgotten (then `ledgerflow.run.settled` is false and it ends at the last event this process saw).
 * - `task <task>`: one per attempt, a child of this process's run span, recorded when the attempt ends (its start from
 *   its task.started).
 */
import { createHash } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import type { Fact } from './derive.js';
import { trimOldest } from '../bounded.js';

export const TRACER_NAME = 'ledgerflow';
/** Open run spans kept at most; past it the oldest is ended as not settled here. */
const MAX_OPEN_RUNS = 10_000;

/** The trace id of every span of a run, and the span id its run spans hang under: the first 32 and next 16 hex of sha256("ledgerflow/run/" + runId). */
export function runTraceIds(runId: string): { traceId: string; spanId: string } {
  const hex = createHash('sha256').update(`ledgerflow/run/${runId}`).digest('hex');
  return { traceId: hex.slice(0, 32), spanId: hex.slice(32, 48) };
}

interface OpenRun {
  span: Span;
  lastTime: string;
}

export class RunTracer {
  private readonly open = new Map<string, OpenRun>();

  constructor(private readonly tracer: Tracer = trace.getTracer(TRACER_NAME)) {}

  record(facts: readonly Fact[]): void {
    for (const f of facts) {
      if (f.kind === 'run.holds' || f.kind === 'run.started' || f.kind === 'notification' || f.kind === 'task.settled')
        continue;
      if (f.kind === 'attempt.started') {
        this.runSpan(f.runId, f.workflow, f.runStartedAt, f.startedAt, f.version);
        continue;
      }
      if (f.kind === 'attempt.ended') {
        this.attempt(f);
        continue;
      }
      const run = this.runSpan(f.runId, f.workflow, f.startedAt, f.endedAt, f.version);
      if (!run) continue;
      run.setAttributes({
        'ledgerflow.run.status': f.status,
        'ledgerflow.run.settled': true,
        ...(f.errorCode ? { 'ledgerflow.error.code': f.errorCode } : {}),
      });
      if (f.status === 'FAILED')
        run.setStatus({ code: SpanStatusCode.ERROR, ...(f.errorCode ? { message: f.errorCode } : {}) });
      run.end(new Date(f.endedAt));
      this.open.delete(f.runId);
    }
  }

  /** Ends the run spans still open (the runs did not settle in this process). */
  close(): void {
    for (const runId of [...this.open.keys()]) this.forget(runId);
  }

  private forget(runId: string): void {
    const o = this.open.get(runId);
    if (!o) return;
    this.open.delete(runId);
    o.span.setAttribute('ledgerflow.run.settled', false);
    o.span.end(new Date(o.lastTime));
  }

  private attempt(f: Extract<Fact, { kind: 'attempt.ended' }>): void {
    if (f.startedAt === null) return; // its start is in a commit this process did not see
    const run = this.runSpan(f.runId, f.workflow, f.runStartedAt, f.endedAt, f.version);
    if (!run) return;
    const span = this.tracer.startSpan(
      `task ${f.task}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: new Date(f.startedAt),
        attributes: {
          'ledgerflow.run.id': f.runId,
          'ledgerflow.workflow': f.workflow,
          'ledgerflow.task': f.task,
          'ledgerflow.task.instance': f.instance,
          'ledgerflow.task.attempt': f.attempt,
          'ledgerflow.task.outcome': f.outcome,
          ...(f.errorCode ? { 'ledgerflow.error.code': f.errorCode } : {}),
        },
      },
      trace.setSpan(context.active(), run),
    );
    if (f.outcome === 'failed' || f.outcome === 'timed_out')
      span.setStatus({ code: SpanStatusCode.ERROR, ...(f.errorCode ? { message: f.errorCode } : {}) });
    span.end(new Date(f.endedAt));
  }

  /** This process's span of the run, opened at the run's start on first use; null when no SDK records spans (nothing is kept then). */
  private runSpan(runId: string, workflow: string, startedAt: string, seenAt: string, version: number): Span | null {
    const o = this.open.get(runId);
    if (o) {
      if (seenAt > o.lastTime) o.lastTime = seenAt;
      return o.span;
    }
    const ids = runTraceIds(runId);
    const parent = trace.setSpanContext(context.active(), {
      traceId: ids.traceId,
      spanId: ids.spanId,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const span = this.tracer.startSpan(
      `run ${workflow}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: new Date(startedAt),
        attributes: {
          'ledgerflow.run.id': runId,
          'ledgerflow.workflow': workflow,
          'ledgerflow.workflow.version': version,
        },
      },
      parent,
    );
    if (!span.isRecording()) return null;
    this.open.set(runId, { span, lastTime: seenAt });
    trimOldest(this.open, MAX_OPEN_RUNS, (runId) => this.forget(runId));
    return span;
  }
}
