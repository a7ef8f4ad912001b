/**
 * What clients do against a cluster: deploy, start, retry, approve, signal, run control and emit over NATS (a
 * person's inputs are published as their user: user-publish.ts, published-inputs.ts; kicks and events for the
 * engines: engine-messages.ts).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Definition, IdReusePolicy } from '../../definition/index.js';
import { ApprovalRefusedError, InputError, permissionDenied } from '../../errors/index.js';
import { nestsDeeperThan, SETTLED_STATUSES, tooDeepText, type WorkflowStatus } from '../../events/index.js';
import { RunCommits, type RetryOptions } from '../../executor/index.js';
import { JetStreamEventStore, type JetStreamStoreOptions, jetstream, jetstreamManager } from '../../store/index.js';
import { withDataKeys } from '../../encryption/index.js';
import {
  controlSchedules,
  type ScheduleAction,
  type ScheduleActionResult,
  type TriggerEvent,
} from '../../triggers/index.js';
import { KvScheduleCursor } from '../transport/schedule-cursor.js';
import {
  DefinitionRegistry,
  type ApprovalVerdict,
  encode,
  type SignalVerdict,
  type TriggerVerdict,
  ensureCluster,
  hasUsers,
  senderOf,
  subjects,
  type InputMessage,
  type ClusterSettings,
} from '../transport/index.js';
import { publishApproval, publishControl, publishSignal, type ControlOutcome } from './published-inputs.js';
import { kickRun, publishEvent } from './engine-messages.js';

export type { ControlOutcome } from './published-inputs.js';

/** How a decision over NATS was taken: recorded in the log at once, or published, with the engine's verdict if one came in time. */
export type DecisionOutcome = { how: 'recorded' } | { how: 'published'; verdict: ApprovalVerdict | null };

export class ClusterClient {
  readonly store: JetStreamEventStore;
  private ready: Promise<{ js: JetStreamClient; registry: DefinitionRegistry }> | undefined;

  /** `url`: the server the client connects to (a user in it is who acts). */
  constructor(
    readonly url: string,
    private readonly settings: { store?: Omit<JetStreamStoreOptions, 'servers'>; cluster?: ClusterSettings } = {},
  ) {
    this.sender = senderOf(url);
    // A person's reads open sealed values when the data key is among their secrets, else show `[encrypted]`.
    this.store = withDataKeys(new JetStreamEventStore({ servers: url, ...settings.store }));
    // A start's kick carries the commit it appended (engine-messages.ts).
    this.store.handedCommits.offer();
  }

  /** The NATS user this client publishes inputs as (lf.inputs.<sender>.<runId>). */
  private readonly sender: string;

  /** Connects and creates the cluster's streams (approvals, inputs, timers, …) if they are missing, so decisions can be queued before any engine runs. */
  async conn() {
    this.ready ??= (async () => {
      const nc = await this.store.connection();
      await ensureCluster(await jetstreamManager(nc), {
        ...this.settings.cluster,
        ...(nc.info?.max_payload ? { maxPayload: nc.info.max_payload } : {}),
      });
      const js = jetstream(nc);
      // The definitions bucket honours the replica and storage settings like every stream (it was always R1).
      return { js, registry: new DefinitionRegistry(js, this.settings.cluster) };
    })();
    return this.ready;
  }

  /**
   * Whether this connection may write the log and the registry itself (the engine user, or a server without
   * users): else it is a person's, whose starts, retries and deploys are asked of the engines (requests.ts).
   */
  async mayWriteLog(): Promise<boolean> {
    try {
      await this.conn();
      return true;
    } catch (err) {
      if (permissionDenied(err) === null) throw err;
      this.ready = undefined;
      return false;
    }
  }

  /** `text`: the YAML `def` was parsed from, kept beside it for the dashboard's editor (docs/dashboard.md#editing-a-definition). */
  async deploy(def: Definition, text?: string) {
    return (await this.conn()).registry.deploy(def, text);
  }

  async resolve(ref: string): Promise<Definition> {
    return (await this.conn()).registry.resolve(ref);
  }

  /**
   * Pause, resume, trigger or backfill a workflow's schedules (docs/operations.md#schedules), written to KV
   * LF_SCHEDULES as this connection's user; the engines start what is queued on their next tick.
   */
  async schedules(action: ScheduleAction): Promise<ScheduleActionResult> {
    const { js } = await this.conn();
    const cursor = new KvScheduleCursor(js, this.settings.cluster);
    return controlSchedules(
      { cursor, definitions: await this.deployed(), hasRun: async (id) => (await this.store.lastSeq(id)) > 0 },
      action,
    );
  }

  async deployed(): Promise<Definition[]> {
    return (await this.conn()).registry.latestAll();
  }

  /**
   * Records run.started and kicks the engines; returns at once. With a caller-chosen `runId` (RunCommits.startRun) a
   * run that has the id is returned (`existing: true`), also when two clients race (the append at sequence 0 decides).
   */
  async start(
    ref: string,
    input: Record<string, unknown>,
    opts: { inputFromStrings?: boolean; runId?: string; idReuse?: IdReusePolicy; priority?: number } = {},
  ): Promise<{ runId: string; definition: Definition; status?: WorkflowStatus; existing?: true }> {
    await this.conn(); // the streams and the registry, made once
    const definition = await this.resolve(ref);
    const engine = new RunCommits({ store: this.store });
    const inputFromStrings = opts.inputFromStrings ?? false;
    const priority = opts.priority !== undefined ? { priority: opts.priority } : {};
    if (opts.runId !== undefined) {
      const started = await engine.startRun(definition, input, {
        inputFromStrings,
        ...priority,
        runId: opts.runId,
        ...(opts.idReuse ? { idReuse: opts.idReuse } : {}),
      });
      // An existing run that has not settled is kicked again: the start that recorded it may have died before its kick.
      if (!SETTLED_STATUSES.includes(started.status))
        await this.kick(started.runId, started.existing !== true ? 'started' : 'input');
      return {
        runId: started.runId,
        definition,
        status: started.status,
        ...(started.existing ? { existing: true as const } : {}),
      };
    }
    const runId = await engine.start(definition, input, { inputFromStrings, ...priority });
    await this.kick(runId, 'started');
    // concurrency: the start may be QUEUED; say so (a start that found slots free admitted queued runs first: the settle that freed them was cut short).
    if (!definition.concurrency) return { runId, definition };
    await this.kickAdmitted(engine);
    return { runId, definition, status: (await engine.status(runId)).status };
  }

  /**
   * Retry from failed: records the start of a new run of the FAILED or CANCELLED run's definition and input, reusing
   * the outputs it can (RunCommits.beginRetry), and kicks the engines, as `start` does. Other runs: RetryRefusedError.
   */
  async retry(runId: string, opts: RetryOptions = {}): Promise<{ runId: string }> {
    await this.conn();
    const newRunId = (await new RunCommits({ store: this.store }).beginRetry(runId, opts, false)).snapshot.context
      .runId;
    await this.kick(newRunId, 'started');
    return { runId: newRunId };
  }

  /**
   * Wakes the engines about a run whose log moved here: its start (`started`), its admission to a concurrency slot
   * (`admitted`), or an input recorded here (`input`). A start's kick and an admission's each have a message id of
   * their own, so each is written once however often it is sent; an input's has none. (One id for both had JetStream
   * drop an admission's kick within the dedup window of its start's: the run stayed admitted and unstarted.)
   */
  async kick(runId: string, why: 'started' | 'admitted' | 'input' = 'input'): Promise<void> {
    return kickRun(this.store, this.sender, runId, why);
  }

  /** Kicks the runs the commits of `commits` admitted to a concurrency slot (a start that found one free, a decision or cancel that settled a run). */
  async kickAdmitted(commits: RunCommits): Promise<void> {
    for (const admitted of await commits.takeAdmitted()) await this.kick(admitted, 'admitted');
  }

  /**
   * Takes a decision on a HUMAN task over NATS, with no engine needed now. `user`: the URL's NATS user ('' for none).
   * - As a NATS user: published on lf.approvals.<runId>.<taskId>.<user> (nats.conf: own name only), where it waits
   *   in LF_APPROVALS until an engine records it (a refusal too): `published`.
   * - On a server without users nobody is proven: `as` names who decides, and the decision is judged and recorded
   *   at once, as on the embedded store, marked `unauthenticated`, and the engines woken: `recorded`.
   */
  async decide(
    runId: string,
    taskId: string,
    decision: 'approved' | 'rejected',
    user: string,
    comment?: string,
    opts: { as?: string; waitMs?: number } = {},
  ): Promise<DecisionOutcome> {
    if (user) {
      return {
        how: 'published',
        verdict: await publishApproval(this.url, runId, taskId, user, decision, comment, opts.waitMs ?? 0),
      };
    }
    if (await hasUsers(this.url)) {
      throw new ApprovalRefusedError(
        'this NATS server has users: the approver is the NATS user you connect as, e.g. --nats nats://alice:<password>@host:port',
        { runId, taskId },
      );
    }
    if (!opts.as)
      throw new ApprovalRefusedError(
        'this NATS server has no users, so nobody is proven: say who decides with --as <name> (recorded as an unauthenticated name)',
        { runId, taskId },
      );
    const commits = new RunCommits({ store: this.store });
    await commits.input(
      runId,
      { kind: 'approval', taskId, decision, ...(comment !== undefined ? { comment } : {}) },
      { by: opts.as, unauthenticated: true },
    );
    // Wake the engines, if any run here, to act on it (a driver following the run sees it in the log), and
    // on the runs it admitted where it settled the run (a rejection) and freed a concurrency slot.
    await this.conn();
    const kick: InputMessage = { type: 'kick', runId };
    await this.store.publishMessage(subjects.input(this.sender, runId), encode(kick)).catch(() => undefined);
    await this.kickAdmitted(commits);
    return { how: 'recorded' };
  }

  /**
   * Sends a signal to a run's WAITs on `name` as this connection's NATS user (or `as` on a server without users,
   * recorded as unauthenticated). With `waitMs`, waits for the engine's verdict: a refusal throws SignalRefusedError,
   * as on the embedded store; null when none came in time.
   */
  async signal(
    runId: string,
    name: string,
    opts: { data?: unknown; as?: string; waitMs?: number } = {},
  ): Promise<SignalVerdict | null> {
    return publishSignal(this.url, runId, name, opts);
  }

  /**
   * Pauses a run, whichever engine owns it: `{action: 'pause'}` on lf.control.<sender>.<runId> as this connection's
   * NATS user (or `as` on a server without users). Needs no read of the log (a people user may not read it): waits up
   * to `waitMs` (default 10 s; 0: not at all) for the engine's verdict. A refusal throws PauseRefusedError (or
   * RunNotFoundError); `recorded` is false when no verdict came in time (it waits in LF_CONTROL).
   */
  pause(runId: string, opts: { reason?: string; as?: string; waitMs?: number } = {}): Promise<ControlOutcome> {
    return publishControl(this.url, runId, 'pause', opts);
  }

  /**
   * Resumes a paused run, as pause. A run that is not paused is refused, nothing recorded: `changed` is false, with
   * its `status` and the `reason`. Without a verdict in time `changed` is true and `recorded` false.
   */
  async resume(
    runId: string,
    opts: { as?: string; waitMs?: number } = {},
  ): Promise<ControlOutcome & { changed: boolean }> {
    const outcome = await publishControl(this.url, runId, 'resume', opts);
    return { changed: outcome.reason === undefined, ...outcome };
  }

  /**
   * Cancels a run, as pause: the engine records run.cancelled, aborts its attempts and cancels its child runs. A
   * settled run is refused (CancelRefusedError with its status; RunNotFoundError for none).
   */
  cancel(runId: string, opts: { reason?: string; as?: string; waitMs?: number } = {}): Promise<ControlOutcome> {
    return publishControl(this.url, runId, 'cancel', opts);
  }

  /**
   * Publishes a business event for the engines' triggers, its id as message id (docs/asyncapi.yaml): the stream drops
   * a repeat within the dedup window, and past it the run id (derived from the event id) starts each workflow once.
   */
  async emit(
    event: TriggerEvent,
    opts: { waitMs?: number } = {},
  ): Promise<{ verdict: TriggerVerdict | null; duplicate: boolean }> {
    // Refused here as the engines would refuse it (events/json-depth.ts), before its text is made to publish.
    if (nestsDeeperThan(event.data)) throw new InputError(tooDeepText(`the data of event ${event.id}`));
    const { js } = await this.conn();
    const nc = await this.store.connection();
    return publishEvent(js, nc, event, opts);
  }

  async close(): Promise<void> {
    // The registry's watch ends before its connection drains (a connection that failed was reported to conn()'s caller).
    (await this.ready?.catch(() => undefined))?.registry.close();
    await this.store.close();
  }
}
