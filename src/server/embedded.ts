/**
 * The embedded store's backend: reads and actions through an Engine on the
 * file store, exactly the library calls the CLI makes, and a Service (as
 * `ledgerflow serve`) that drives the runs, so an approval given in the page
 * moves its run on. When another serve holds the store the Service stands by
 * (it does that itself) and that serve drives the runs.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { requireAllowed } from '../authority/index.js';
import { agentsSeen } from '../agent/index.js';
import { fileAgentRows } from '../coordination/index.js';
import { CancelRefusedError, PauseRefusedError, errorMessage } from '../errors/index.js';
import { bundledDefaults, loadDefinitionFile } from '../files/index.js';
import type { Definition } from '../definition/index.js';
import type { Handlers } from '../runtime/index.js';
import type { DriverHooks } from '../local/index.js';
import { migrateRuns, setBreaker, type RunInput } from '../executor/index.js';
import { embeddedRuns } from '../runs/index.js';
import { Service, type ServiceNotice, type ServiceOptions } from '../service/index.js';
import type { EventStore } from '../store/index.js';
import {
  catalogReader, deadLetterDir, embeddedScheduleAction, defaultDir, NO_SCHEDULES, scheduledDir, diskChildren, diskEngine, embeddedGates, embeddedScheduler, emitEvent, fileGates, fileDeadLetters, FileScheduleCursor, loadTriggerCatalog, scheduleCursorFile, scheduleRows,
} from '../triggers/index.js';
import type { Actions, Actor, Backend, DefinitionVersion } from './backend.js';
import { byIdAndVersion, definitionsInFolder, definitionsInRuns } from './definitions.js';
import { folderDeploy } from './editor.js';
import { ApiError } from './errors.js';
import { checkStartInput, eventProblemField } from './schemas.js';
import { LogWitness, openRunIndex } from '../query/index.js';
import { undrivenMarks } from './undriven.js';

export interface EmbeddedOptions {
  store: EventStore;
  storeDir: string;
  /** Handlers for every run the Service drives (`--handlers`); else each run's recorded module. */
  handlers?: Handlers;
  definitionsDir?: string;
  hooks?: DriverHooks;
  notifier?: ServiceOptions['notifier'];
  onTakeUp?: ServiceOptions['onTakeUp'];
  onNotice?: (n: ServiceNotice) => void;
  /** Fire the definitions' schedules from the Service's ticks, as serve does (default true). */
  schedules?: boolean;
}

export async function embeddedBackend(opts: EmbeddedOptions): Promise<Backend & { service: Service }> {
  const { store, storeDir } = opts;
  const definitionsDir = resolve(opts.definitionsDir ?? defaultDir('definitions'));
  const hooks = opts.hooks ?? {};
  const deadLetters = fileDeadLetters(deadLetterDir(storeDir));
  const engine = diskEngine({ store, ...hooks, storeDir });
  const service = new Service({ engine, storeDir, ...(opts.handlers ? { handlers: opts.handlers } : {}), ...(opts.onNotice ? { onNotice: opts.onNotice } : {}), ...(opts.notifier ? { notifier: opts.notifier } : {}), ...(opts.onTakeUp ? { onTakeUp: opts.onTakeUp } : {}) });
  // The folder as schedules and trigger gates read it, read again only when a file of it changed (an idle
  // dashboard parses no YAML); an absent folder reads as none.
  const read = catalogReader(definitionsDir, (l) => opts.onNotice?.({ kind: 'tick.error', message: l }));
  const loaded = () => { try { return read(); } catch { return []; } };
  if (opts.schedules !== false) {
    if (scheduledDir(opts.definitionsDir) === null) opts.onNotice?.({ kind: 'tick.error', message: NO_SCHEDULES });
    else {
      const scheduler = embeddedScheduler({ storeDir, engine, definitions: loaded, log: (l) => opts.onNotice?.({ kind: 'tick.error', message: l }) });
      service.addTickHook(async (now) => { await scheduler.fireDue(now.getTime()); });
    }
  }
  // Debounced bursts and throttled queues start from the active driver's tick, as under `ledgerflow serve`.
  const gates = embeddedGates({ storeDir, engine, definitions: loaded });
  service.addTickHook(async () => {
    try { await gates.tick(); } catch (err) { opts.onNotice?.({ kind: 'tick.error', message: `trigger gates: ${errorMessage(err)}` }); }
  });
  // Not awaited: a standby resolves only when the other serve stops.
  void service.start();
  // Live: the records are kept in memory and follow runs/ (a page of GET /api/runs answers from memory).
  const runs = openRunIndex({ store, storeDir, live: true });
  // A log cut short after it was written is shown DAMAGED (the Service leaves it alone).
  const witness = new LogWitness(store, storeDir);
  const runApi = embeddedRuns({ engine, store, storeDir, fallback: 'dashboard' });
  const undriven = undrivenMarks(storeDir, service);
  // Built now, not at the first page: at 100,000 runs a build without runs.jsonl reads every run file.
  runs.versions().catch((err: unknown) => opts.onNotice?.({ kind: 'tick.error', message: `run index: ${errorMessage(err)}` }));

  const definitions = async (): Promise<DefinitionVersion[]> => {
    const files = definitionsInFolder(definitionsDir);
    return byIdAndVersion([...files, ...(await definitionsInRuns(store, runs, files))]);
  };

  const actions = (actor: Actor): Actions => {
    const by = (as?: string) => as ?? actor.user;
    // With a users file the signed-in person's level is judged as the CLI judges it (docs/users.md): a pause, resume,
    // cancel or retry asks for L1 (refused, nothing recorded); an approval carries the level to the approval rule.
    const who = actor.authority;
    // Judged and recorded by the run API, as the CLI's approve, signal, pause, resume and cancel are; refusals throw.
    const record = (runId: string, input: RunInput, as?: string) => runApi.input(runId, input, { name: by(as), ...(who ? { actor: who } : {}) });
    return {
      async decide(runId, task, decision, comment, as) {
        const o = await record(runId, { kind: 'approval', taskId: task, decision, ...(comment !== undefined ? { comment } : {}) }, as);
        return { runId, task, decision, by: by(as), recorded: true, status: o.status, seq: o.seq };
      },
      async signal(runId, name, data, as) {
        const o = await record(runId, { kind: 'signal', name, ...(data !== undefined ? { data } : {}) }, as);
        return { runId, name, by: by(as), recorded: true, status: o.status, seq: o.seq };
      },
      async cancel(runId, reason, as) {
        const o = await record(runId, { kind: 'control', action: 'cancel', ...(reason !== undefined ? { reason } : {}) }, as);
        if (!o.changed) throw new CancelRefusedError(`cannot cancel run ${runId}: it is already ${o.status}; nothing was recorded`, { runId, status: o.status });
        return { runId, recorded: true, status: o.status, seq: o.seq };
      },
      async pause(runId, reason, as) {
        const o = await record(runId, { kind: 'control', action: 'pause', ...(reason !== undefined ? { reason } : {}) }, as);
        return { runId, recorded: true, status: o.status, seq: o.seq };
      },
      async resume(runId, as) {
        const o = await record(runId, { kind: 'control', action: 'resume' }, as);
        if (!o.changed) throw new PauseRefusedError(`cannot resume run ${runId}: it is ${o.status}, not paused; nothing was recorded`, { runId, status: o.status });
        return { runId, recorded: true, status: o.status, seq: o.seq };
      },
      async retry(runId, _as, newRunId) {
        // Judged and recorded by the run API (L1); the Service drives the new run (as it drives any run in the store).
        return { runId: (await runApi.retry(runId, { name: actor.user, ...(who ? { actor: who } : {}) }, newRunId ? { runId: newRunId } : {})).runId };
      },
      async start(workflowId, input, version, id) {
        // The folder first; the versions recorded in runs (from the run index) only for a workflow no file defines.
        const inFiles = byIdAndVersion(definitionsInFolder(definitionsDir)).filter((d) => d.id === workflowId && d.definition !== null);
        const found = inFiles.length > 0 && (version === undefined || inFiles.some((d) => d.version === version))
          ? inFiles : (await definitions()).filter((d) => d.id === workflowId && d.definition !== null);
        if (found.length === 0) throw new ApiError(404, 'LF_DEFINITION_NOT_FOUND', `no workflow ${workflowId} with a valid definition in ${definitionsDir} or in recorded runs`);
        const pick = version === undefined ? found[0]! : found.find((d) => d.version === version);
        if (!pick) throw new ApiError(400, 'LF_INPUT_INVALID', `version: workflow ${workflowId} has no version ${version} (known: ${found.map((d) => d.version).join(', ')})`, { field: 'version' });
        const definition = pick.definition as Definition;
        checkStartInput(definition, input);
        // A bundled workflow started from another folder: its defaults naming the package's sample files, as their paths.
        const given = pick.file ? { ...bundledDefaults(definition, pick.file), ...input } : input;
        // The picked file alone (a broken neighbour in the folder does not stop this start): its handler module.
        const loaded = pick.file ? loadDefinitionFile(pick.file) : undefined;
        // Judged and recorded by the run API as the CLI's start is: the file and its handler module, so any serve or
        // resume finds them, and who started it where a users file proved who is signed in.
        const started = await runApi.start({
          definition, input: given,
          ...(pick.file ? { source: { file: pick.file, ...(loaded?.handlersPath ? { handlers: loaded.handlersPath } : {}) } } : {}),
          ...(id?.priority !== undefined ? { priority: id.priority } : {}),
          ...(id?.runId !== undefined ? { runId: id.runId, ...(id.idReuse ? { idReuse: id.idReuse } : {}) } : {}),
        }, { name: actor.user, ...(who ? { actor: who } : {}) });
        if (id?.runId !== undefined) return { runId: started.runId, status: started.status, ...(started.existing ? { existing: true as const } : {}) };
        // A run without a caller id says its status only when it is QUEUED (concurrency:), as the CLI does.
        return definition.concurrency ? { runId: started.runId, status: started.status } : { runId: started.runId };
      },
      async schedule(a) {
        requireAllowed(who, 'schedules');
        return embeddedScheduleAction({ storeDir, engine, definitions: loaded() }, a.action === 'pause' ? { ...a, by: actor.user } : a);
      },
      async migrate(runIds, target, map, dryRun) {
        if (!dryRun) requireAllowed(who, 'deploy', { workflowId: target.definition.id });
        return migrateRuns(store, runIds, target, map, { dryRun, by: actor.user, now: () => new Date().toISOString() });
      },
      async breaker(name, to) {
        requireAllowed(who, 'limits');
        return { breaker: await setBreaker(store, name, to, Date.now()) };
      },
      async emit(type, data, id) {
        const cat = loadTriggerCatalog({ definitionsDir });
        const event = { id: id ?? randomUUID(), type, time: new Date().toISOString(), source: `ui:${actor.user}`, data };
        // drive: false — the runs are recorded here and the Service drives them.
        const gateBackend = fileGates(storeDir);
        const result = await emitEvent(event, { store, ...diskChildren({ store, deadLetters, gates: gateBackend }), catalog: cat, deadLetters, drive: false, gates: gateBackend });
        if (!result.accepted) {
          // The field the schema names first (data.amount); an unknown type or a refused workflow input is about `data` as a whole.
          const field = result.stage === 'schema' || result.stage === 'envelope' ? eventProblemField(result.problems) : 'data';
          throw new ApiError(400, 'LF_INPUT_INVALID', `${field}: event ${event.id} (${type}) rejected (${result.stage}): ${result.reason}`, { field });
        }
        const skipped = cat.skipped.map((x) => x.reason);
        return { event: result.event, runs: result.runs.map(({ runId, workflowId, version, status, duplicate }) => ({ runId, workflowId, version, status, duplicate })), warnings: result.warnings, ...(skipped.length ? { skipped } : {}) };
      },
    };
  };

  return {
    mode: 'embedded', storeDir: resolve(storeDir), store, runs, service, actions, definitions, definitionsDir,
    // The editor's deploy: the draft written into the folder, where `serve`, `start` and the schedules find it.
    async deploy(actor, draft) {
      requireAllowed(actor.authority, 'deploy');
      return folderDeploy(definitionsDir, draft.yaml, draft.definition, await definitions());
    },
    damage: (runId, seq) => witness.check(runId, seq),
    // A run no process drives says so and what would (its page, GET /api/runs/:id), as `status` does.
    markUnserved: (_definition, view) => undriven(view),
    async schedules() {
      // What the Service fires, as `ledgerflow schedules` lists it: no folder of the user's (the bundled ones shown), none.
      if (scheduledDir(opts.definitionsDir) === null) return [];
      // The valid files of the folder: a broken one is shown on the definitions page, not a reason to hide every schedule.
      const defs = (await definitions()).filter((d) => d.source === 'file' && d.definition !== null).map((d) => d.definition as Definition);
      return scheduleRows(defs, await new FileScheduleCursor(scheduleCursorFile(storeDir)).all(), store, Date.now(), 3);
    },
    async triggers() {
      return triggerRows((await definitions()).filter((d) => d.source === 'file'));
    },
    async agents() {
      return fileAgentRows(await agentsSeen(store));
    },
    async workers() {
      return { mode: 'embedded', service: { active: service.active, pid: process.pid, driving: service.runs }, workers: [], queues: [] };
    },
    async close() {
      await runs.close();
      await service.stop();
    },
  };
}

/** What fires when: every trigger of the given definitions. */
export function triggerRows(defs: DefinitionVersion[]): unknown[] {
  return defs.flatMap((d) => (d.definition?.triggers ?? []).map((t, index) => (t.kind === 'event'
    ? { workflowId: d.id, version: d.version, trigger: index, kind: 'event', event: t.event, ...(t.filter ? { filter: t.filter } : {}) }
    : { workflowId: d.id, version: d.version, trigger: index, kind: 'schedule', cron: t.cron, timezone: t.timezone, catchUp: t.catchUp })));
}
