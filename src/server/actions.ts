/**
 * The dashboard's actions, written once for both stores over the run API
 * (src/runs/), which judges a person's input, start and retry: approve,
 * reject, signal, pause, resume and cancel, start, retry, and an operator's
 * hands (breakers, migrations, schedules). What differs between the stores is
 * the sign-in, given as a `Person`: on NATS the session's own connection
 * proves who acts and nats.conf decides (a refusal is a 403 naming the
 * subject); on the embedded store the name signed in or given acts, at the
 * level the users file proves.
 */
import { requireAllowed } from '../authority/index.js';
import type { Definition } from '../definition/index.js';
import { CancelRefusedError, PauseRefusedError, permissionDenied } from '../errors/index.js';
import { migrateRuns } from '../executor/index.js';
import { setBreaker } from '../limits/index.js';
import { applyOver, type Acting, type InputOutcome, type RunInput, type StartingRuns } from '../runs/index.js';
import type { EventStore } from '../store/index.js';
import type { ScheduleAction, ScheduleActionResult } from '../triggers/schedule-control.js';
import type { ActionResult, Actions, Actor } from './backend.js';
import { ApiError } from './errors.js';
import { checkStartInput } from './schemas.js';

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
  emit(type: string, data: unknown, id?: string): Promise<ActionResult>;
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

export function personActions(actor: Actor, person: Person): Actions {
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
    async decide(runId, task, decision, comment, as) {
      const o = await take(
        runId,
        { kind: 'approval', taskId: task, decision, ...(comment !== undefined ? { comment } : {}) },
        as,
      );
      return { runId, task, decision, by: o.by, ...said(o) };
    },
    async signal(runId, name, data, as) {
      const o = await take(runId, { kind: 'signal', name, ...(data !== undefined ? { data } : {}) }, as);
      return { runId, name, by: o.by, ...said(o) };
    },
    async cancel(runId, why, as) {
      const o = await take(runId, { kind: 'control', action: 'cancel', ...reason(why) }, as);
      if (!o.changed)
        throw new CancelRefusedError(`cannot cancel run ${runId}: it is already ${o.status}; nothing was recorded`, {
          runId,
          status: o.status,
        });
      return { runId, ...said(o) };
    },
    async pause(runId, why, as) {
      return { runId, ...said(await take(runId, { kind: 'control', action: 'pause', ...reason(why) }, as)) };
    },
    async resume(runId, as) {
      const o = await take(runId, { kind: 'control', action: 'resume' }, as);
      if (!o.changed)
        throw new PauseRefusedError(
          `cannot resume run ${runId}: it is ${o.status ?? 'not paused'}, not paused; nothing was recorded`,
          { runId, status: o.status },
        );
      return { runId, ...said(o) };
    },
    async retry(runId, _as, newRunId) {
      // The run API records it (a serve, the Service or the engines drive the new run); a person's over NATS stays fresh.
      const r = await runs.retry(runId, person.acting(), newRunId ? { runId: newRunId } : {});
      return r.queued ? { runId: r.runId, queued: true as const } : { runId: r.runId };
    },
    async start(workflowId, input, version, id) {
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
    async schedule(a) {
      requireAllowed(authority, 'schedules');
      return permitted(
        user,
        () => person.schedule(a.action === 'pause' ? { ...a, by: user } : a),
        () => engineUser('change schedules (the KV bucket LF_SCHEDULES)'),
      );
    },
    async migrate(runIds, target, map, dryRun) {
      if (!dryRun) requireAllowed(authority, 'deploy', { workflowId: target.definition.id });
      return permitted(
        user,
        () => migrateRuns(person.store, runIds, target, map, { dryRun, by: user, now: () => new Date().toISOString() }),
        () => engineUser("migrate runs (it appends run.migrated to the runs' log)"),
      );
    },
    async breaker(name, to) {
      requireAllowed(authority, 'limits');
      return {
        breaker: await permitted(
          user,
          () => setBreaker(person.store, name, to, Date.now()),
          () => engineUser('change breakers (the KV bucket LF_TASK_GATES)'),
        ),
      };
    },
    emit: (type, data, id) => person.emit(type, data, id),
    bulk: (plan, o, describe) => applyOver(runs, plan, person.acting(), { ...o, describe }),
  };
}
