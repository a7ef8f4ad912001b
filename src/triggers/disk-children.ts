/**
 * The embedded store's child runs and EMITs, from disk: a child's definition is found beside its parent's file
 * (src/files/children.ts) with its handler module loaded when it names one, and an EMIT starts what `ledgerflow emit`
 * would. diskEngine gives them to an Engine (createEngine, the CLI, serve).
 */
import { ringOf, sealedProgress } from '../encryption/index.js';
import { findChildDefinition } from '../files/index.js';
import { FailureSteps, type FailureStepsOptions } from '../incidents/index.js';
import { Notifier } from '../notify/index.js';
import { FileProgressChannel } from '../progress/index.js';
import type { Handlers } from '../runtime/index.js';
import { Engine, type ChildResolver, type EngineOptions, type EventEmitter } from '../local/index.js';
import type { EventStore } from '../store/index.js';
import { loadHandlerModule } from '../handlers/index.js';
import { deadLetterDir, fileDeadLetters, type DeadLetterSink } from './deadletter.js';
import { taskEmitter } from './emit-task.js';
import { fileGates } from './gate-file.js';
import type { GateLog, GateStore } from './gates.js';

interface DiskChildrenOptions extends Omit<EngineOptions, 'store' | 'resolveChild' | 'emitEvent'> {
  store: EventStore;
  deadLetters: DeadLetterSink;
  loadHandlers?: (path: string) => Promise<Handlers>;
  /** Debounced and throttled triggers' state, for the EMITs (fileGates(storeDir)). */
  gates?: { store: GateStore; log: GateLog };
}

export function diskChildren(opts: DiskChildrenOptions): { resolveChild: ChildResolver; emitEvent: EventEmitter } {
  const { loadHandlers = loadHandlerModule, deadLetters, ...engineOpts } = opts;
  const modules = new Map<string, Promise<Handlers>>();
  const resolveChild: ChildResolver = async (ref) => {
    const found = findChildDefinition(ref);
    if (!found) return null;
    if (!found.handlersPath) return found;
    let handlers = modules.get(found.handlersPath);
    if (!handlers) modules.set(found.handlersPath, (handlers = loadHandlers(found.handlersPath)));
    return { ...found, handlers: await handlers };
  };
  const emitEvent = taskEmitter({ ...engineOpts, resolveChild, deadLetters });
  return { resolveChild, emitEvent };
}

/**
 * An Engine on the embedded store: its child runs and EMITs from disk (diskChildren, with the same hooks as the
 * parent's), its dead letters under `storeDir`. What `opts` gives itself (a resolveChild, an emitEvent) wins.
 */
export function diskEngine(opts: EngineOptions & DiskFailureSteps & { storeDir: string }): Engine {
  const { storeDir, notifier, projectDir, ...rest } = opts;
  // The built-in failure steps write under the project's .3ox/ (the working folder unless told) and notify through the process's notifier.
  const failureSteps =
    rest.failureSteps ??
    new FailureSteps({
      store: rest.store,
      projectDir: projectDir ?? process.cwd(),
      notifier: notifier ?? new Notifier({ store: rest.store }),
    });
  // Live progress of the attempts run here: files under the store, which every process on it reads (status, watch, ui).
  // The store's observers (the state file's writer) are told of each value, as of each commit. A message may quote what
  // the task works on, so with a data key it is sealed as the store's events are (docs/security.md): the files are the
  // store's, read by processes without the key too.
  const observed = rest.store as { progressed?: (runId: string) => void };
  const progress =
    rest.progress ??
    sealedProgress(
      FileProgressChannel.under(storeDir, observed.progressed ? (id) => observed.progressed!(id) : undefined),
      ringOf(rest.store),
    );
  const engineOpts = { ...rest, failureSteps, progress };
  return new Engine({
    ...diskChildren({
      ...engineOpts,
      deadLetters: fileDeadLetters(deadLetterDir(storeDir)),
      gates: fileGates(storeDir),
    }),
    ...engineOpts,
  });
}

/** What the embedded store's failure steps are given (src/incidents): who notifies the commander, where .3ox/ is. */
interface DiskFailureSteps {
  notifier?: FailureStepsOptions['notifier'];
  /** The folder whose .3ox/ gets incidents/ and preserved/ (default: the working folder). */
  projectDir?: string;
}
