/**
 * The built-in failure steps on NATS (log_to_incident, notify_commander, preserve_state): attempts the engine performs
 * itself, as it does a child run or an EMIT, never handed to a worker (a worker has no read of the log, and the
 * notifications configuration is the engines'). The outcome is published from the engine sender with the attempt's
 * token, as a child run's is; an engine that dies meanwhile leaves the attempt to the next engine's reconcile, which
 * performs it again (each step writes and sends the same thing again: src/incidents).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { FailureStep } from '../../definition/index.js';
import { FailureSteps, type IncidentRecord } from '../../incidents/index.js';
import type { Notifier } from '../../notify/index.js';
import type { StartAttempt } from '../../runtime/index.js';
import type { JetStreamEventStore } from '../../store/index.js';
import { headers } from '../../store/index.js';
import { token } from '../transport/subjects.js';
import type { ChildRuns } from './children.js';

export interface EngineFailureStepsOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  store: JetStreamEventStore;
  notifier: Notifier;
  children: ChildRuns;
  /** The folder whose .3ox/ gets incidents/ and preserved/ (the engine's working folder). */
  projectDir: string;
  log: (line: string) => void;
}

/** `lf.incidents.<workflow>`: every incident log_to_incident records (core NATS; a stream on lf.incidents.> keeps them). */
export function incidentSubject(workflowId: string): string {
  return `lf.incidents.${token(workflowId)}`;
}

export function engineFailureSteps(
  o: EngineFailureStepsOptions,
): (effect: StartAttempt, step: FailureStep) => Promise<void> {
  const publishIncident = async (record: IncidentRecord): Promise<string> => {
    const subject = incidentSubject(record.workflow);
    const h = headers();
    h.set('Nats-Msg-Id', record.incident);
    o.nc.publish(subject, new TextEncoder().encode(JSON.stringify(record)), { headers: h });
    await o.nc.flush();
    return subject;
  };
  const steps = new FailureSteps({ store: o.store, projectDir: o.projectDir, notifier: o.notifier, publishIncident });
  // The message id of the report: one per attempt and restart. A commander's webhook may take its tries' time.
  return (effect, step) =>
    o.children.perform(
      effect,
      `${effect.runId}/${effect.taskId}/${effect.attempt}/r${effect.restart}`,
      `the failure step ${step}`,
      () =>
        steps.run(step, effect.input, {
          runId: effect.runId,
          attempt: effect.attempt,
          signal: AbortSignal.timeout(10 * 60_000),
          log: (m) => o.log(`run ${effect.runId}: ${step}: ${m}`),
        }),
    );
}
