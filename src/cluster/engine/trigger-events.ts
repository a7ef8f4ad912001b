/**
 * Business events, both ways, judged against the deployed definitions the same way (admitEvent, src/triggers): one
 * taken from LF_TRIGGERS starts a run of each workflow it triggers (once: the run id comes from the event id), and an
 * EMIT attempt publishes one there and completes with the runs it starts. The deployed definitions are read again only
 * when a deploy changed them (the registry's revision, asked per event).
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { instanceFields, iso } from '../../compiler/index.js';
import type { Definition } from '../../definition/index.js';
import { RunCannotStartError, RunIdTakenError, errorMessage } from '../../errors/index.js';
import type { EmitEvent } from '../../runtime/index.js';
import {
  admitEvent,
  gatedOutcome,
  isGated,
  runIdForEvent,
  TriggerGates,
  type EventTypeSpec,
  type GateLog,
  type GateStore,
  type GatedStart,
} from '../../triggers/index.js';
import type { ChildRuns } from './children.js';
import {
  encode,
  parseInbound,
  rawOf,
  subjects,
  type DefinitionRegistry,
  type TriggerVerdict,
  type Custody,
} from '../transport/index.js';
import { everyUntilStopped, type Inbox, type Lifecycle } from './inbox.js';
import type { RunHost } from './run-host.js';
import { CoalescedReads } from '../../key-batches.js';

export interface TriggerEventsOptions {
  js: JetStreamClient;
  host: RunHost;
  inbox: Inbox;
  children: ChildRuns;
  registry: DefinitionRegistry;
  eventTypes: Map<string, EventTypeSpec>;
  stats: { triggered: number };
  now: () => number;
  /** Debounced and throttled triggers' state (KV LF_TRIGGER_GATES) and decision log (LF_TRIGGER_LOG): trigger-gates.ts. */
  gates: { store: GateStore; log: GateLog };
  log: (line: string) => void;
}

export class TriggerEvents {
  /** The deployed definitions, read when the registry stood at `revision` or later (-1: not read yet). */
  private listed: { revision: number; definitions: Definition[] } = { revision: -1, definitions: [] };
  private readonly revisions = new CoalescedReads<number>(() => this.o.registry.revision());
  /** The revision is read first: the list read after it holds every deploy up to it, maybe more. */
  private readonly lists = new CoalescedReads(async () => {
    const revision = await this.o.registry.revision();
    return { revision, definitions: await this.o.registry.latestAll() };
  });

  readonly gates: TriggerGates;

  constructor(private readonly o: TriggerEventsOptions) {
    this.gates = new TriggerGates({
      store: o.gates.store,
      log: o.gates.log,
      now: o.now,
      definitions: () => this.definitionsNow(),
      start: (s) => this.startGated(s),
    });
  }

  /** A gate's run: started once (its run id comes from the event id), its first effects published, as an ungated event's run is. */
  private async startGated(s: GatedStart): Promise<{ duplicate: boolean }> {
    let started: boolean;
    try {
      // Started by the gate loop, under no message: its first attempts go to the queues.
      started = await this.o.host.startOnce(s.runId, s.definition, s.input, s.source, null);
    } catch (err) {
      // It would not start on another try either: said, and not tried again every tick.
      if (!(err instanceof RunCannotStartError) && !(err instanceof RunIdTakenError)) throw err;
      this.o.log(`trigger gate: run ${s.runId} of ${s.definition.id} cannot start: ${err.message}`);
      return { duplicate: false };
    }
    if (started) this.o.stats.triggered++;
    return { duplicate: !started };
  }

  /** Every engine ticks the gates (each decision is one CAS, so engines never double a start): quiet bursts fire, queues drain. */
  startGateLoop(life: Lifecycle, tickMs = 1000): void {
    everyUntilStopped(
      life,
      tickMs,
      () => this.gates.tick(),
      (err) => this.o.log(`trigger gates: ${errorMessage(err)}; trying again next tick`),
    );
  }

  /** An event on lf.triggers.<type>: a run of each workflow it triggers, started once; the producer hears the verdict. */
  async take(m: JsMsg, custody: Custody): Promise<void> {
    const { host, inbox } = this.o;
    const parsed = parseInbound('trigger', rawOf(m));
    if (!parsed.ok) return inbox.dropMalformed('triggers', m, parsed);
    const { event, verdictTo } = parsed.value;
    const admission = await this.admitFresh(event);
    if (!admission.accepted) {
      await inbox.deadLetter('triggers', admission.reason, m, { stage: admission.stage, problems: admission.problems });
      inbox.tell(verdictTo, {
        accepted: false,
        reason: admission.reason,
        stage: admission.stage,
        runs: [],
      } satisfies TriggerVerdict);
      m.ack();
      return;
    }
    const runs: TriggerVerdict['runs'] = [];
    const gated: NonNullable<TriggerVerdict['gated']> = [];
    for (const match of admission.matches) {
      if (isGated(match.trigger)) {
        // Decided and saved (KV CAS) before the ack: a redelivery after a crash finds the event in the gate and changes nothing.
        const a = await this.gates.arrive(match, admission.event);
        gated.push(gatedOutcome(match, a));
        if (a.decision === 'started' && a.runId)
          runs.push({ runId: a.runId, workflowId: match.definition.id, started: true });
        continue;
      }
      const runId = runIdForEvent(admission.event.id, match.definition.id);
      // The run id comes from the event id: a second delivery finds the run and starts nothing. Whoever wrote the
      // start commit, its effects (first attempts, an approval deadline) are published here.
      let started: boolean;
      try {
        started = await host.startOnce(runId, match.definition, match.input, { event: admission.event.id }, custody);
      } catch (err) {
        // A run that cannot start will not start on another delivery either: dead-letter it, don't retry forever.
        if (!(err instanceof RunCannotStartError) && !(err instanceof RunIdTakenError)) throw err;
        await inbox.deadLetter('triggers', err.message, m, { stage: 'start', runId }, runId);
        runs.push({ runId, workflowId: match.definition.id, started: false, reason: err.message });
        continue;
      }
      if (started) this.o.stats.triggered++;
      runs.push(
        started
          ? { runId, workflowId: match.definition.id, started: true }
          : { runId, workflowId: match.definition.id, started: false, reason: 'already started by this event' },
      );
    }
    inbox.tell(verdictTo, { accepted: true, runs, ...(gated.length ? { gated } : {}) } satisfies TriggerVerdict);
    m.ack();
  }

  /**
   * An EMIT attempt: the event goes on lf.triggers.<event> under the attempt's event id as message id (a re-run
   * publishes it once); the attempt completes with the runs the deployed triggers start for it. An event no workflow
   * triggers on is not published (it would be dead-lettered): the attempt completes with `runs: []` and a note.
   */
  async emit(effect: EmitEvent): Promise<void> {
    const { children } = this.o;
    const event = {
      id: effect.eventId,
      type: effect.event,
      time: iso(this.o.now()),
      source: `ledgerflow:${effect.runId}`,
      data: effect.data,
    };
    const admission = await this.admitFresh(event);
    const parent = {
      runId: effect.runId,
      workflowId: '',
      task: effect.taskId,
      ...instanceFields(effect),
      attempt: effect.attempt,
    };
    const base = { event: effect.event, eventId: effect.eventId };
    if (!admission.accepted && admission.stage === 'unknown_type') {
      return children.reportOutcome(parent, effect.eventId, {
        kind: 'completed',
        output: { ...base, runs: [], note: `no workflow triggers on ${effect.event}: no run started` },
      });
    }
    if (!admission.accepted) {
      return children.reportOutcome(parent, effect.eventId, {
        kind: 'failed',
        error: {
          code: 'LF_EVENT_REJECTED',
          retryable: false,
          message: `event ${effect.eventId} (${effect.event}) was rejected: ${admission.reason}`,
        },
      });
    }
    let subject: string;
    try {
      subject = subjects.trigger(effect.event);
    } catch (err) {
      return children.reportOutcome(parent, effect.eventId, {
        kind: 'failed',
        error: {
          code: 'LF_EVENT_REJECTED',
          retryable: false,
          message: `cannot emit ${effect.event} on NATS: ${errorMessage(err)}`,
        },
      });
    }
    await this.o.js.publish(subject, encode(event), { msgID: effect.eventId });
    const runs = admission.matches.map((m) => ({
      runId: runIdForEvent(effect.eventId, m.definition.id),
      workflowId: m.definition.id,
      version: m.definition.version,
    }));
    await children.reportOutcome(parent, effect.eventId, {
      kind: 'completed',
      output: {
        ...base,
        runs,
        ...(runs.length === 0
          ? { note: `no trigger of ${effect.event} matched the event's data: no run started` }
          : {}),
      },
    });
  }

  /**
   * The event admitted against the workflows deployed when it came: a workflow deployed just before its
   * first event is found, also when another workflow already triggers on the event's type.
   */
  private async admitFresh(event: Parameters<typeof admitEvent>[0]): Promise<ReturnType<typeof admitEvent>> {
    return admitEvent(event, { definitions: await this.definitionsNow(), eventTypes: this.o.eventTypes });
  }

  /**
   * The deployed definitions as they stood at some moment after the call: the registry's revision is
   * asked (one request, shared by the events that come while one is under way), and the list read again
   * only when a deploy moved it since the list was read. A flood of events costs one request at a time.
   */
  private async definitionsNow(): Promise<Definition[]> {
    if ((await this.revisions.get('')) > this.listed.revision) {
      const fresh = await this.lists.get('');
      if (fresh.revision > this.listed.revision) this.listed = fresh;
    }
    return this.listed.definitions;
  }
}
