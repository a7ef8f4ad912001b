/**
 * The dashboard's actions, written once for both stores over the run API (src/runs/), which judges a person's input,
 * start and retry: approve, reject, signal, pause, resume and cancel, start, retry, and an operator's hands (breakers,
 * migrations, schedules). What differs between the stores is the sign-in, given as a `Person`: on NATS the session's
 * own connection proves who acts and nats.conf decides (a refusal is a 403 naming the subject); on the embedded store
 * the name signed in or given acts, at the level the users file proves.
 */
import { randomUUID } from 'node:crypto';
import { requireAllowed, type Actor as AuthorityActor } from '../authority/index.js';
import type { Definition, IdReusePolicy } from '../definition/index.js';
import { CancelRefusedError, PauseRefusedError, permissionDenied } from '../errors/index.js';
import { migrateRuns, type MigrationRow } from '../executor/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import type { TaskMap } from '../runtime/index.js';
import { setBreaker } from '../limits/index.js';
import type { BulkAction, RunIndex, RunQuery } from '../query/index.js';
import {
  bulkOver,
  type Acting,
  type BulkCallOptions,
  type BulkHooks,
  type InputOutcome,
  type RunInput,
  type StartingRuns,
} from '../runs/index.js';
import type { EventStore } from '../store/index.js';
import type { ScheduleAction, ScheduleActionResult } from '../triggers/schedule-control.js';
import { ApiError } from './errors.js';
import { checkStartInput } from './schemas.js';

/**
 * Who acts: the name recorded as `by`, (NATS) the session's own connection, and (embedded, a users file) their level
 * and domains, judged for each action as the CLI judges them (src/authority).
 */
export interface Actor {
  user: string;
  session?: unknown;
  authority?: AuthorityActor;
}

/** A trigger event as the dashboard sends one: from `ui:<user>`. */
export type UiEvent = { id: string; type: string; time: string; source: string; data: unknown };

/** What a start of a workflow runs: its definition, and (embedded, a file) its defaults and where it and its handlers are. */
export interface Startable {
  definition: Definition;
  defaults?: Record<string, unknown>;
  source?: { file: string; handlers?: string };
}

/** The signed-in person, as each store proves them: the strategy the actions take. */
export interface Person {
  /** The run API as this person (it judges their level, domain and approvers; over NATS it waits a while for the engines' verdict). */
  runs: StartingRuns;
  /** Who acts for a request's `as` (embedded: that name, else the signed-in one; NATS: only the signed-in user, else a 400). */
  acting(as?: string): Acting;
  /** The store as this person writes it (breakers, migrations). */
  store: EventStore;
  /** The definition `workflowId` (at `version`, else the latest) a start runs: a 404 or 400 ApiError when there is none. */
  startable(workflowId: string, version?: number): Promise<Startable>;
  /** NATS: what a start of `workflowId` that nats.conf refused needs (it differs for a user that may write the log). */
  startNeeds?(workflowId: string): Promise<string>;
  /** A person's hand on a workflow's schedules. */
  schedule(action: ScheduleAction): Promise<ScheduleActionResult>;
  /** A trigger event, as each store takes one. */
  emit(event: UiEvent): Promise<Record<string, unknown>>;
}

/** What nats.conf refused (NATS, the person's own connection) as the 403 saying what they may not do; any other error as it is. */
async function permitted<T>(
  user: string,
  act: () => Promise<T>,
  what: (on: string) => string | Promise<string>,
): Promise<T> {
  try {
    return await act();
  } catch (err) {
    const subject = permissionDenied(err);
    if (subject === null) throw err;
    throw new ApiError(
      403,
      'LF_FORBIDDEN',
      `NATS user ${user} may not ${await what(subject ? ` on ${subject}` : '')}`,
      subject ? { subject } : {},
    );
  }
}

export type Actions = ReturnType<typeof personActions>;

export function personActions(actor: Actor, person: Person) {
  const { user, authority } = actor;
  const { runs } = person;
  // Published for the engines (NATS); recorded here (embedded). What the outcome knows is said.
  const said = (o: InputOutcome) => ({
    ...(runs.store === 'nats' ? { published: true } : {}),
    recorded: o.recorded,
    ...(o.status !== null ? { status: o.status } : {}),
    ...(o.seq !== null ? { seq: o.seq } : {}),
  });
  const take = (runId: string, input: RunInput, as?: string) => runs.input(runId, input, person.acting(as));
  const reason = (r?: string) => (r !== undefined ? { reason: r } : {});
  const engineUser = (d: string) => `${d}: nats.conf gives that to the engine user`;
  return {
    async decide(runId: string, task: string, decision: 'approved' | 'rejected', comment?: string, as?: string) {
      const o = await take(
        runId,
        { kind: 'approval', taskId: task, decision, ...(comment !== undefined ? { comment } : {}) },
        as,
      );
      return { runId, task, decision, by: o.by, ...said(o) };
    },
    async signal(runId: string, name: string, data?: unknown, as?: string) {
      const o = await take(runId, { kind: 'signal', name, ...(data !== undefined ? { data } : {}) }, as);
      return { runId, name, by: o.by, ...said(o) };
    },
    async cancel(runId: string, why?: string, as?: string) {
      const o = await take(runId, { kind: 'control', action: 'cancel', ...reason(why) }, as);
      if (!o.changed)
        throw new CancelRefusedError(`cannot cancel run ${runId}: it is already ${o.status}; nothing was recorded`, {
          runId,
          status: o.status,
        });
      return { runId, ...said(o) };
    },
    async pause(runId: string, why?: string, as?: string) {
      return { runId, ...said(await take(runId, { kind: 'control', action: 'pause', ...reason(why) }, as)) };
    },
    async resume(runId: string, as?: string) {
      const o = await take(runId, { kind: 'control', action: 'resume' }, as);
      if (!o.changed)
        throw new PauseRefusedError(
          `cannot resume run ${runId}: it is ${o.status ?? 'not paused'}, not paused; nothing was recorded`,
          { runId, status: o.status },
        );
      return { runId, ...said(o) };
    },
    /** `as` is not taken: a retry is the signed-in person's own. */
    async retry(runId: string, _as?: string) {
      // The run API records it (a serve, the Service or the engines drive the new run).
      const r = await runs.retry(runId, person.acting());
      return r.queued ? { runId: r.runId, queued: true as const } : { runId: r.runId };
    },
    /** A fork of run `runId` at `at` with `input` changed, the signed-in person's own (L1, as retry); `reset` also cancels it. */
    async fork(runId: string, at: string, input: Record<string, unknown>, reset?: boolean) {
      const r = await runs.fork(runId, { at, input, ...(reset ? { reset } : {}) }, person.acting());
      return {
        runId: r.runId,
        from: r.from,
        ...(r.queued ? { queued: true as const } : {}),
        ...(r.cancelled ? { cancelled: r.cancelled.changed } : {}),
      };
    },
    /**
     * A start, answered with the run's id; with a caller-chosen id also its status, and `existing: true` when the id
     * had a run already; `queued: true` over NATS when it waits for an engine. `priority`: overrides the workflow's.
     */
    async start(
      workflowId: string,
      input: Record<string, unknown>,
      version?: number,
      id?: { runId?: string; idReuse?: IdReusePolicy; priority?: number },
    ) {
      const { definition, defaults, source } = await person.startable(workflowId, version);
      // A bad form is a 400 whoever asks, before the start is judged.
      checkStartInput(definition, input);
      const started = await permitted(
        user,
        () =>
          runs.start(
            {
              definition,
              input: { ...defaults, ...input },
              ...(source ? { source } : {}),
              ...(id?.priority !== undefined ? { priority: id.priority } : {}),
              ...(id?.runId !== undefined ? { runId: id.runId, ...(id.idReuse ? { idReuse: id.idReuse } : {}) } : {}),
            },
            person.acting(),
          ),
        async (on) => `start runs (refused by nats.conf${on}): ${await person.startNeeds?.(definition.id)}`,
      );
      if (started.queued) return { runId: started.runId, queued: true as const };
      if (id?.runId !== undefined)
        return {
          runId: started.runId,
          status: started.status,
          ...(started.existing ? { existing: true as const } : {}),
        };
      // A run without a caller id says its status only when it is QUEUED (concurrency:), as the CLI does.
      return definition.concurrency ? { runId: started.runId, status: started.status } : { runId: started.runId };
    },
    async schedule(a: ScheduleAction): Promise<ScheduleActionResult> {
      requireAllowed(authority, 'schedules');
      return permitted(
        user,
        () => person.schedule(a.action === 'pause' ? { ...a, by: user } : a),
        () => engineUser('change schedules (the KV bucket LF_SCHEDULES)'),
      );
    },
    /** `ledgerflow migrate` on these runs (docs/runs.md#migrating-in-flight-runs); the real one as `deploy` is judged (L1). */
    async migrate(
      runIds: readonly string[],
      target: CompiledWorkflow,
      map: TaskMap,
      dryRun: boolean,
    ): Promise<MigrationRow[]> {
      if (!dryRun) requireAllowed(authority, 'deploy', { workflowId: target.definition.id });
      return permitted(
        user,
        () => migrateRuns(person.store, runIds, target, map, { dryRun, by: user, now: () => new Date().toISOString() }),
        () => engineUser("migrate runs (it appends run.migrated to the runs' log)"),
      );
    },
    async breaker(name: string, to: 'open' | 'close') {
      requireAllowed(authority, 'limits');
      return {
        breaker: await permitted(
          user,
          () => setBreaker(person.store, name, to, Date.now()),
          () => engineUser('change breakers (the KV bucket LF_TASK_GATES)'),
        ),
      };
    },
    emit: (type: string, data: unknown, id?: string) =>
      person.emit({ id: id ?? randomUUID(), type, time: new Date().toISOString(), source: `ui:${user}`, data }),
    /** A bulk action's runs, each taken as its single action is (runs/bulk.ts). */
    bulk: (index: RunIndex, action: BulkAction, query: RunQuery, o: BulkCallOptions & BulkHooks) =>
      bulkOver(runs, index, false, action, query, person.acting(), o),
  };
}
