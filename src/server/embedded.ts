/**
 * The embedded store's backend: reads and actions through an Engine on the file store, exactly the library calls the
 * CLI makes, and a Service (as `ledgerflow serve`) that drives the runs, so an approval given in the page moves its run
 * on. When another serve holds the store the Service stands by (it does that itself) and that serve drives the runs.
 */
import { resolve } from 'node:path';
import { requireAllowed } from '../authority/index.js';
import { agentsSeen } from '../agent/index.js';
import { fileAgentRows } from '../coordination/index.js';
import { errorMessage } from '../errors/index.js';
import { bundledDefaults, loadDefinitionFile } from '../files/index.js';
import type { Definition } from '../definition/index.js';
import type { Handlers } from '../runtime/index.js';
import type { DriverHooks } from '../local/index.js';
import { embeddedRuns } from '../runs/index.js';
import { Service, type ServiceNotice, type ServiceOptions } from '../service/index.js';
import type { EventStore } from '../store/index.js';
import {
  catalogReader,
  deadLetterDir,
  embeddedScheduleAction,
  defaultDir,
  NO_SCHEDULES,
  scheduledDir,
  diskChildren,
  diskEngine,
  embeddedGates,
  embeddedScheduler,
  emitEvent,
  fileGates,
  fileDeadLetters,
  FileScheduleCursor,
  loadTriggerCatalog,
  scheduleCursorFile,
  scheduleRows,
} from '../triggers/index.js';
import { personActions, type Actor, type Startable, type UiEvent } from './actions.js';
import type { Backend } from './backend.js';
import { byIdAndVersion, definitionsInFolder, validOf, validVersion, withRecorded } from './definitions.js';
import { folderDeploy } from './editor.js';
import { ApiError } from './errors.js';
import { eventProblemField } from './schemas.js';
import { LogWitness, openRunIndex } from '../query/index.js';
import { undrivenMarks } from './undriven.js';
import type { Users } from './users.js';

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
  /** Named users (`--users`): each signs in with their password and acts at their level. */
  users?: Users;
}

export async function embeddedBackend(opts: EmbeddedOptions): Promise<Backend & { service: Service }> {
  const { store, storeDir, users } = opts;
  const definitionsDir = resolve(opts.definitionsDir ?? defaultDir('definitions'));
  const hooks = opts.hooks ?? {};
  const deadLetters = fileDeadLetters(deadLetterDir(storeDir));
  const engine = diskEngine({ store, ...hooks, storeDir });
  const service = new Service({
    engine,
    storeDir,
    ...(opts.handlers ? { handlers: opts.handlers } : {}),
    ...(opts.onNotice ? { onNotice: opts.onNotice } : {}),
    ...(opts.notifier ? { notifier: opts.notifier } : {}),
    ...(opts.onTakeUp ? { onTakeUp: opts.onTakeUp } : {}),
  });
  // The folder as schedules and trigger gates read it, read again only when a file of it changed (an idle
  // dashboard parses no YAML); an absent folder reads as none.
  const read = catalogReader(definitionsDir, (l) => opts.onNotice?.({ kind: 'tick.error', message: l }));
  const loaded = () => {
    try {
      return read();
    } catch {
      return [];
    }
  };
  if (opts.schedules !== false) {
    if (scheduledDir(opts.definitionsDir) === null) opts.onNotice?.({ kind: 'tick.error', message: NO_SCHEDULES });
    else {
      const scheduler = embeddedScheduler({
        storeDir,
        engine,
        definitions: loaded,
        log: (l) => opts.onNotice?.({ kind: 'tick.error', message: l }),
      });
      service.addTickHook(async (now) => {
        await scheduler.fireDue(now.getTime());
      });
    }
  }
  // Debounced bursts and throttled queues start from the active driver's tick, as under `ledgerflow serve`.
  const gates = embeddedGates({ storeDir, engine, definitions: loaded });
  service.addTickHook(async () => {
    try {
      await gates.tick();
    } catch (err) {
      opts.onNotice?.({ kind: 'tick.error', message: `trigger gates: ${errorMessage(err)}` });
    }
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
  runs
    .versions()
    .catch((err: unknown) => opts.onNotice?.({ kind: 'tick.error', message: `run index: ${errorMessage(err)}` }));

  const definitions = () => withRecorded(store, runs, definitionsInFolder(definitionsDir));

  /** What a start runs: the folder first; the versions recorded in runs (from the run index) only for a workflow no file defines. */
  const startable = async (workflowId: string, version?: number): Promise<Startable> => {
    const files = definitionsInFolder(definitionsDir);
    const inFiles = files.some(
      (d) => d.id === workflowId && d.definition !== null && (version === undefined || d.version === version),
    );
    // The folder is not named: an API error says nothing of the server's disk (the client knows which folder it served).
    const where = ' in the definitions folder or in recorded runs';
    const pick = validVersion(inFiles ? files : await definitions(), workflowId, version, 'version', where);
    const { definition } = pick;
    if (!pick.file) return { definition };
    // A bundled workflow started from another folder: its defaults naming the package's sample files, as their paths.
    // The file and its handler module are recorded so any serve or resume finds them (the picked file alone: a broken
    // neighbour in the folder does not stop this start).
    const handlers = loadDefinitionFile(pick.file).handlersPath;
    return {
      definition,
      defaults: bundledDefaults(definition, pick.file),
      source: { file: pick.file, ...(handlers ? { handlers } : {}) },
    };
  };

  async function emit(event: UiEvent) {
    const cat = loadTriggerCatalog({ definitionsDir });
    // drive: false — the runs are recorded here and the Service drives them.
    const gateBackend = fileGates(storeDir);
    const result = await emitEvent(event, {
      store,
      ...diskChildren({ store, deadLetters, gates: gateBackend }),
      catalog: cat,
      deadLetters,
      drive: false,
      gates: gateBackend,
    });
    if (!result.accepted) {
      // The field the schema names first (data.amount); an unknown type or a refused workflow input is about `data` as a whole.
      const field =
        result.stage === 'schema' || result.stage === 'envelope' ? eventProblemField(result.problems) : 'data';
      throw new ApiError(
        400,
        'LF_INPUT_INVALID',
        `${field}: event ${event.id} (${event.type}) rejected (${result.stage}): ${result.reason}`,
        { field },
      );
    }
    const skipped = cat.skipped.map((x) => x.reason);
    return {
      event: result.event,
      runs: result.runs.map(({ runId, workflowId, version, status, duplicate }) => ({
        runId,
        workflowId,
        version,
        status,
        duplicate,
      })),
      warnings: result.warnings,
      ...(skipped.length ? { skipped } : {}),
    };
  }

  // The signed-in (or named) person acts, at the level a users file proves; the run API judges and records it (the
  // Service drives what it records), as the CLI's approve, signal, pause, resume, cancel, start and retry.
  const actions = (actor: Actor) =>
    personActions(actor, {
      runs: runApi,
      store,
      startable,
      acting: (as) => ({ name: as ?? actor.user, ...(actor.authority ? { actor: actor.authority } : {}) }),
      schedule: (a) => embeddedScheduleAction({ storeDir, engine, definitions: loaded() }, a),
      emit,
    });

  return {
    mode: 'embedded',
    storeDir: resolve(storeDir),
    store,
    runs,
    ...(engine.progress ? { progress: engine.progress } : {}),
    service,
    actions,
    definitions,
    definitionsDir,
    // The editor's deploy: the draft written into the folder, where `serve`, `start` and the schedules find it.
    async deploy(actor, draft) {
      requireAllowed(actor.authority, 'deploy');
      return folderDeploy(definitionsDir, draft.yaml, draft.definition, await definitions());
    },
    damage: (runId, seq) => witness.check(runId, seq),
    actorOf(auth) {
      const authority = users?.actorOf(auth.user);
      return { user: auth.user, ...(authority ? { authority } : {}) };
    },
    ...(users
      ? {
          async signIn(user: string, password: string) {
            if (!(await users.signIn(user, password)))
              throw new ApiError(
                401,
                'LF_UNAUTHORIZED',
                `wrong user or password for ${user} (users file ${users.file})`,
              );
            return { close: async () => undefined };
          },
        }
      : {}),
    // A run no process drives says so and what would (its page, GET /api/runs/:id), as `status` does.
    markUnserved: (_definition, view) => undriven(view),
    async schedules() {
      // What the Service fires, as `ledgerflow schedules` lists it: no folder of the user's (the bundled ones shown), none.
      if (scheduledDir(opts.definitionsDir) === null) return [];
      // The valid files of the folder: a broken one is shown on the definitions page, not a reason to hide every schedule.
      const defs = validOf(byIdAndVersion(definitionsInFolder(definitionsDir)));
      return scheduleRows(defs, await new FileScheduleCursor(scheduleCursorFile(storeDir)).all(), store, Date.now(), 3);
    },
    triggers: async () => triggerRows(validOf(definitionsInFolder(definitionsDir))),
    async agents() {
      return fileAgentRows(await agentsSeen(store));
    },
    async workers() {
      return {
        mode: 'embedded',
        service: { active: service.active, pid: process.pid, driving: service.runs },
        workers: [],
        queues: [],
      };
    },
    async close() {
      await runs.close();
      await service.stop();
    },
  };
}

/** What fires when: every trigger of the given definitions, by id and newest version first. */
export function triggerRows(defs: Definition[]): unknown[] {
  return [...defs]
    .sort((a, b) => a.id.localeCompare(b.id) || b.version - a.version)
    .flatMap((d) =>
      d.triggers.map((t, trigger) => {
        const at = { workflowId: d.id, version: d.version, trigger, kind: t.kind };
        return t.kind === 'event'
          ? { ...at, event: t.event, ...(t.filter ? { filter: t.filter } : {}) }
          : { ...at, cron: t.cron, timezone: t.timezone, catchUp: t.catchUp };
      }),
    );
}
