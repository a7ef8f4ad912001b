/**
 * What a Service (service.ts) is told and tells: its options, the notices it gives its operator, the tick hooks it
 * calls and how its stop() ended. Apart from service.ts so that the CLI, the server and the demo, which only pass
 * options and print notices, read these without the service's workings.
 */
import type { EventEnvelope } from '../events/index.js';
import type { Handlers, RunSnapshot } from '../runtime/index.js';
import type { Engine } from '../local/index.js';
import type { Clock } from '../executor/index.js';

/** Called every tick with the current time (e.g. the scheduler's `fireDue`); awaited, never two at once. */
export type TickHook = (now: Date) => Promise<void>;

/** What the service tells its operator (the CLI prints `message` on stderr, `--json` prints the whole object). */
export interface ServiceNotice {
  kind:
    | 'standby'
    | 'serving'
    | 'run.driving'
    | 'run.taken_over'
    | 'run.busy'
    | 'run.settled'
    | 'run.waiting'
    | 'run.error'
    | 'tick.error'
    | 'stopping'
    | 'stopped';
  message: string;
  runId?: string;
  status?: string;
  pid?: number | null;
}

export interface ServiceOptions {
  /** The engine that drives the runs; its store must be the file store in `storeDir`. */
  engine: Engine;
  /** The store directory: `serve.lock` lives there, runs under `runs/`. */
  storeDir: string;
  /** Handlers for every run (`--handlers`); without them, each run's recorded `source.handlers` module. */
  handlers?: Handlers;
  /** This process's skills (`serve --skills`): it runs tasks whose `requires:` they cover (docs/limits.md#skills). */
  skills?: ReadonlySet<string>;
  /** How a run's handler module is loaded (default loadHandlerModule); cached per path. */
  loadHandlers?: (path: string) => Promise<Handlers>;
  /** How long in-flight attempts get to finish on stop() (default 10 s). */
  graceMs?: number;
  /** Rescan of the store for runs to drive, besides the directory watch (default 1000 ms). */
  rescanMs?: number;
  /** How often a standby looks at serve.lock (default 250 ms). */
  standbyPollMs?: number;
  /** Period of the tick hooks (default 1000 ms). */
  tickMs?: number;
  /** Called every tick (the scheduler plugs in here). */
  onTick?: TickHook | TickHook[];
  onNotice?: (notice: ServiceNotice) => void;
  clock?: Clock;
  /**
   * Delivers the notifications a run's history owes (src/notify): each run this service takes up, and once each run
   * that settled within `notifyLookbackMs` (default 24 h) before this service saw it, so that a process that died
   * between a commit and its delivery is made good.
   */
  notifier?: { catchUp(history: EventEnvelope[]): unknown };
  notifyLookbackMs?: number;
  /** Each active run this service takes up, as loaded, before driving it (metrics: `LedgerflowMetrics.observeRun`). */
  onTakeUp?: (snapshot: RunSnapshot) => void;
}

/** How stop() ended: runs that settled or were left waiting in the grace, and runs whose attempts were cut short. */
export interface StopReport {
  drained: number;
  interrupted: string[];
}
