/**
 * Business events, both ways, judged against the deployed definitions the
 * same way (admitEvent, src/triggers): one taken from LF_TRIGGERS starts a
 * run of each workflow it triggers (once: the run id comes from the event
 * id), and an EMIT attempt publishes one there and completes with the runs
 * it starts. The deployed definitions are read at most every 2 s.
 */
import type { JetStreamClient, JsMsg } from 'nats';
import { instanceFields, iso } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { RunCannotStartError } from '../errors/index.js';
import type { EmitEvent } from '../runtime/index.js';
import { admitEvent, runIdForEvent, type EventTypeSpec } from '../triggers/index.js';
import type { ChildRuns } from './children.js';
import type { DefinitionRegistry } from './definitions.js';
import type { Inbox } from './inbox.js';
import { encode, type TriggerVerdict } from './messages.js';
import { parseInbound, rawOf } from './parse.js';
import type { RunHost } from './run-host.js';
import { subjects } from './subjects.js';

export interface TriggerEventsOptions {
  js: JetStreamClient;
  host: RunHost;
  inbox: Inbox;
  children: ChildRuns;
  registry: DefinitionRegistry;
  eventTypes: Map<string, EventTypeSpec>;
  stats: { triggered: number };
  now: () => number;
}

export class TriggerEvents {
  private definitionsAt = 0;
  private definitions: Definition[] = [];

  constructor(private readonly o: TriggerEventsOptions) {}

  /** An event on lf.triggers.<type>: a run of each workflow it triggers, started once; the producer hears the verdict. */
  async take(m: JsMsg): Promise<void> {
    const { host, inbox } = this.o;
    await this.latestDefinitions();
    const parsed = parseInbound('trigger', rawOf(m));
    if (!parsed.ok) return inbox.dropMalformed('triggers', m, parsed);
    const { event, verdictTo } = parsed.value;
    const admission = admitEvent(event, { definitions: this.definitions, eventTypes: this.o.eventTypes });
    if (!admission.accepted) {
      await inbox.deadLetter('triggers', admission.reason, m, { stage: admission.stage, problems: admission.problems });
      inbox.tell(verdictTo, { accepted: false, reason: admission.reason, stage: admission.stage, runs: [] } satisfies TriggerVerdict);
      m.ack();
      return;
    }
    const runs: TriggerVerdict['runs'] = [];
    for (const match of admission.matches) {
      const runId = runIdForEvent(admission.event.id, match.definition.id);
      await host.withRun(runId, async () => {
        // The run id comes from the event id: a second delivery finds the run and starts nothing.
        let started: boolean;
        try {
          started = await host.startOnce(runId, match.definition, match.input, { event: admission.event.id });
        } catch (err) {
          // A run that cannot start will not start on another delivery either: dead-letter it, don't retry forever.
          if (!(err instanceof RunCannotStartError)) throw err;
          await inbox.deadLetter('triggers', err.message, m, { stage: 'start', runId }, runId);
          runs.push({ runId, workflowId: match.definition.id, started: false, reason: err.message });
          return;
        }
        if (started) this.o.stats.triggered++;
        runs.push(started ? { runId, workflowId: match.definition.id, started: true } : { runId, workflowId: match.definition.id, started: false, reason: 'already started by this event' });
        // Whoever wrote the start commit, its effects (first attempts, an approval deadline) are published here.
        await host.process(runId, [], { commitKey: 'trigger', reconcile: true });
      });
    }
    inbox.tell(verdictTo, { accepted: true, runs } satisfies TriggerVerdict);
    m.ack();
  }

  /**
   * An EMIT attempt: the event goes on lf.triggers.<event> with the attempt's
   * event id as its message id (a re-run publishes it once), and the attempt
   * completes with the runs the deployed triggers start for it. An event no
   * workflow triggers on is not published (it would be dead-lettered): the
   * attempt completes with `runs: []` and a note.
   */
  async emit(effect: EmitEvent): Promise<void> {
    const { children } = this.o;
    const definitions = await this.latestDefinitions();
    const event = { id: effect.eventId, type: effect.event, time: iso(this.o.now()), source: `ledgerflow:${effect.runId}`, data: effect.data };
    const admission = admitEvent(event, { definitions, eventTypes: this.o.eventTypes });
    const parent = { runId: effect.runId, workflowId: '', task: effect.taskId, ...instanceFields(effect), attempt: effect.attempt };
    const base = { event: effect.event, eventId: effect.eventId };
    if (!admission.accepted && admission.stage === 'unknown_type') {
      return children.reportOutcome(parent, effect.eventId, { kind: 'completed', output: { ...base, runs: [], note: `no workflow triggers on ${effect.event}: no run started` } });
    }
    if (!admission.accepted) {
      return children.reportOutcome(parent, effect.eventId, { kind: 'failed', error: { code: 'LF_EVENT_REJECTED', retryable: false, message: `event ${effect.eventId} (${effect.event}) was rejected: ${admission.reason}` } });
    }
    let subject: string;
    try {
      subject = subjects.trigger(effect.event);
    } catch (err) {
      return children.reportOutcome(parent, effect.eventId, { kind: 'failed', error: { code: 'LF_EVENT_REJECTED', retryable: false, message: `cannot emit ${effect.event} on NATS: ${(err as Error).message}` } });
    }
    await this.o.js.publish(subject, encode(event), { msgID: effect.eventId });
    const runs = admission.matches.map((m) => ({ runId: runIdForEvent(effect.eventId, m.definition.id), workflowId: m.definition.id, version: m.definition.version }));
    await children.reportOutcome(parent, effect.eventId, { kind: 'completed', output: { ...base, runs, ...(runs.length === 0 ? { note: `no trigger of ${effect.event} matched the event's data: no run started` } : {}) } });
  }

  private async latestDefinitions(): Promise<Definition[]> {
    if (this.o.now() - this.definitionsAt > 2000) {
      this.definitions = await this.o.registry.latestAll();
      this.definitionsAt = this.o.now();
    }
    return this.definitions;
  }
}
