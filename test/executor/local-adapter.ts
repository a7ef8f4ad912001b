/**
 * The local executor for the contract: the library's `createEngine` over a
 * FileEventStore in a temp dir, the scenario's definitions as files in one
 * folder (so children, failure workflows and EMIT triggers are found beside
 * the parent's file, as the docs say), every run driven in this process until
 * it settles (as `serve` drives them), people's decisions, signals and run
 * control given through the run API (src/runs/) over the same Engine, which
 * the driver follows in the log. A restart is a process dying: every driver stops where it is (handlers
 * aborted, nothing more written), and a new engine on a new store over the
 * same directory resumes the runs.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEngine,
  loadDefinitionFile,
  parseDefinition,
  type DriveOptions,
  type Handlers,
  type RunView,
} from '../../src/index.js';
import { RunNotFoundError } from '../../src/errors/index.js';
import { SETTLED_STATUSES } from '../../src/events/index.js';
import { embeddedRuns } from '../../src/runs/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { runsSession, type Executor, type ScenarioSetup, type Session } from './contract.js';

export function localExecutor(): Executor {
  return {
    traits: { restartReason: 'resumed', abortsRunningHandlers: true, childOutcomeBy: undefined },
    open: openLocal,
  };
}

async function openLocal({ workflows, handlers }: ScenarioSetup): Promise<Session> {
  const dir = await mkdtemp(join(tmpdir(), 'lf-contract-local-'));
  const definitions = join(dir, 'definitions');
  const storeDir = join(dir, 'store');
  await mkdir(definitions);
  for (const yaml of workflows) {
    const { definition, diagnostics } = parseDefinition(yaml, 'contract.yaml');
    if (!definition) throw new Error(diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n'));
    await writeFile(join(definitions, `${definition.id}.yaml`), yaml);
  }
  const open = () => {
    // A short poll: the driver follows the log for what people record through another Engine call.
    const store = new FileEventStore(storeDir, { pollMs: 20 });
    return { store, engine: createEngine({ store, storeDir, outputRoot: dir }) };
  };
  let { store, engine } = open();
  /** The run API over the engine of now (a restart makes another). */
  const runs = () => embeddedRuns({ engine, store, storeDir, fallback: 'contract' });
  /** The runs started here (their children are driven inside them), each with its driver while one runs. */
  const drivers = new Map<string, { stop: AbortController; done: Promise<unknown> }>();
  const failures: unknown[] = [];

  const drive = (runId: string, run: (signal: AbortSignal) => Promise<RunView>) => {
    const stop = new AbortController();
    const done = run(stop.signal).catch((err: unknown) => {
      failures.push(err);
    });
    drivers.set(runId, { stop, done });
  };
  const stopDrivers = async () => {
    for (const d of drivers.values()) d.stop.abort();
    await Promise.all([...drivers.values()].map((d) => d.done));
  };
  const check = () => {
    if (failures.length > 0) throw failures[0];
  };
  /** What a read of a run that does not exist gives: null, or no history (as the NATS store reads it). */
  const orIfMissing = async <T, U>(read: Promise<T>, missing: U): Promise<T | U> => {
    try {
      return await read;
    } catch (err) {
      if (err instanceof RunNotFoundError) return missing;
      throw err;
    }
  };
  const status = (runId: string) => orIfMissing(engine.status(runId), null);
  const drivenUntilSettled = (signal: AbortSignal) => ({ handlers: handlers as Handlers, untilSettled: true, signal });
  /** Starts a run (run, runRetry) driven here in the background; resolves with its id once its start is durable. */
  const launch = (run: (opts: DriveOptions & { onStarted: (runId: string) => void }) => Promise<RunView>) =>
    new Promise<string>((resolve, reject) => {
      const stop = new AbortController();
      let started = false;
      const done = run({
        ...drivenUntilSettled(stop.signal),
        onStarted: (runId) => {
          started = true;
          drivers.set(runId, { stop, done });
          resolve(runId);
        },
      })
        // Before the start a refusal is the caller's answer; after it, a driver that failed, which the scenario must hear of.
        .catch((err: unknown) => {
          if (started) failures.push(err);
          else reject(err);
        });
    });

  return {
    async start(workflowId, input, how = {}) {
      const file = join(definitions, `${workflowId}.yaml`);
      const { definition } = loadDefinitionFile(file);
      return launch((opts) => engine.run(definition, input, { ...opts, ...how, source: { file } }));
    },
    retry: (runId) => launch((opts) => engine.runRetry(runId, opts)),
    // A person's input, the reads and the waits through the run API, as the CLI and the dashboard use it (src/runs/).
    ...runsSession(runs, (by) => ({ runs: runs(), as: { name: by } }), check),
    async restart() {
      await stopDrivers();
      await store.close();
      ({ store, engine } = open());
      for (const runId of drivers.keys()) {
        if (SETTLED_STATUSES.includes((await status(runId))!.status)) continue;
        const e = engine;
        drive(runId, (signal) => e.drive(runId, drivenUntilSettled(signal)));
      }
    },
    async close() {
      await stopDrivers();
      await store.close();
      await rm(dir, { recursive: true, force: true });
      check();
    },
  };
}
