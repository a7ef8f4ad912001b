/**
 * The one run API: what every edge — the CLI, the bridge, bulk, agents and the dashboard — asks of runs, on either
 * store, with authority applied inside it so that no edge can forget it: a person's input (an approval, a signal, a
 * pause, resume or cancel), judged and recorded once here; a start recorded for a serve to drive (`start --detach`, the
 * bridge, the dashboard), judged by level and domain here; and the reads (status, history, wait, list), one shape on
 * both stores (reads.ts).
 */
import type { Actor } from '../authority/index.js';
import type { Definition, IdReusePolicy } from '../definition/index.js';
import type { EventEnvelope } from '../events/index.js';
import type { InputOutcome, PayloadGcReport, RunInput, StartedUnderId } from '../executor/index.js';
import type { RunIndexOptions, RunPage, RunQuery, RunRecord } from '../query/index.js';
import type { Handlers, RunView } from '../runtime/index.js';
import type { ArchivedRun } from '../store/index.js';
import type { ArchiveSelection } from './archival.js';

export type { InputOutcome, RunInput };

/** A run to start: its definition and input, and how. */
export interface StartRequest {
  /** The workflow, or (NATS) a deployed one by `<id>[@<version>]`, which the engines resolve (a person may not read the registry). */
  definition: Definition | string;
  input: Record<string, unknown>;
  /** A caller's run id and its reuse policy (docs/runs.md#caller-chosen-run-ids); none: a fresh id. */
  runId?: string;
  idReuse?: IdReusePolicy;
  /** Its place in a concurrency queue (0..99, checked). */
  priority?: number;
  /** Where the definition and its handler module are, recorded so any serve or resume finds them. */
  source?: { file: string; handlers?: string };
  /** Input values given as text (CLI flags), converted to the definition's declared types. */
  inputFromStrings?: boolean;
}

/**
 * What a start recorded: one shape for every edge (`existing`: a caller's id that had a run, not started again);
 * `queued` (NATS): a person's start published for the engines and not taken yet, the run it will be.
 */
export type Started =
  | (StartedUnderId & { queued?: undefined })
  | { runId: string; queued: true; request: string; status?: undefined; existing?: undefined };

/** A retry recorded: the new run's id; `queued` (NATS): published for the engines and not taken yet, as `request`. */
export interface Retried {
  runId: string;
  queued?: true;
  request?: string;
}

/** A fork (docs/runs.md#forking-a-run): where the new run branches off the original, and what it changes. */
export interface ForkRequest {
  /** A task id (the new run starts it again; what completed before it is reused) or an event's sequence number. */
  at: string;
  /** Inputs changed (names the definition declares); the others are the original's. */
  input?: Record<string, unknown>;
  /** Input values given as text (CLI flags), converted to the declared types. */
  inputFromStrings?: boolean;
  /** Another definition to go on under: a Definition (embedded), or (NATS) a deployed one by `<id>[@<version>]`. */
  definition?: Definition | string;
  /** Where that definition and its handler module are (embedded), recorded as a start's. */
  source?: { file: string; handlers?: string };
  /** The new run's id (default: a fresh one). */
  runId?: string;
  /** Also cancel the original, as a person's cancel, once the fork is recorded. */
  reset?: boolean;
  /**
   * Embedded: the handlers the caller will drive the fork with, checked before anything is written (a task the fork
   * will run that they lack: LF_HANDLER_NOT_FOUND). Over NATS the workers run the tasks: not taken.
   */
  handlers?: Handlers;
}

/**
 * A fork recorded: the new run's id and the run it came from; `queued` (NATS): published for the engines and not taken
 * yet, as `request` (a --reset then cancels nothing); `cancelled`: the original's cancel (--reset) as recorded.
 */
export interface Forked {
  runId: string;
  from: string;
  queued?: true;
  request?: string;
  cancelled?: InputOutcome;
}

/** What `resume` leaves to its caller. */
export type Resumed =
  /** Drive the run here: it was not paused, or (`resumed`) its un-pause was recorded with no engine to continue it. */
  | { next: 'drive'; resumed: InputOutcome | null }
  /** NATS: an engine recorded the resume and continues the run. */
  | { next: 'engines'; outcome: InputOutcome }
  /** NATS: the resume is published and no engine answered in time: it waits in LF_CONTROL for one. */
  | { next: 'queued'; outcome: InputOutcome; view: RunView }
  /** NATS: this user may not read the log: send the resume as a run input (`input`), the engines judge it. */
  | { next: 'ask-engines' };

/**
 * Who acts. `name`: the name given (`--as`, the dashboard's signed-in or named person); absent, whoever the store
 * proves (the NATS user connected as) or the Runs' default person. `actor`: what a users file proved of them, judged
 * here (absent: nothing proved, nothing judged).
 */
export interface Acting {
  name?: string;
  actor?: Actor;
}

export interface Runs {
  /** Which store the runs are on: the embedded file store, or NATS JetStream. */
  readonly store: 'embedded' | 'nats';
  /**
   * A person's input, judged as the CLI judges it (a pause, resume or cancel asks for L1; an approval carries the level
   * to the approval rule, which records a refusal in the run's history), on a log that is whole, and recorded. Refusals
   * throw typed errors; nothing is recorded for them. `waitMs` (NATS): how long to wait for an engine's verdict.
   */
  input(runId: string, input: RunInput, as: Acting, opts?: { waitMs?: number }): Promise<InputOutcome>;
  /**
   * Retry from failed: a new run of a FAILED or CANCELLED run's recorded definition and input, reusing what completed;
   * recorded, not driven (a serve or the engines drive it). Asks for L1. `runId`: the new run's id.
   */
  retry(runId: string, as: Acting, opts?: { runId?: string; waitMs?: number }): Promise<Retried>;
  /**
   * Fork: a new run whose history is run `runId`'s up to `req.at`, its inputs changed, what completed by then reused;
   * recorded, not driven (the caller, a serve or the engines drive it). The original is untouched unless `req.reset`
   * cancels it (as `input` would). Asks for L1, as retry.
   */
  fork(runId: string, req: ForkRequest, as: Acting, opts?: { waitMs?: number }): Promise<Forked>;
  /**
   * `ledgerflow resume` before the caller drives the run: on NATS, the inputs people queued and no engine took
   * are taken first (as an engine takes them); a paused run is un-paused as a person's input (L1), `as` asked
   * only then (a users file's password). What the caller does next: `Resumed`.
   */
  resume(
    runId: string,
    as: () => Promise<Acting>,
    opts?: { waitMs?: number; say?: (line: string) => void },
  ): Promise<Resumed>;
  /** The run as it is now; null for a run that does not exist (yet). */
  status(runId: string): Promise<RunView | null>;
  /**
   * A run's view (as `status` gave it) with each task's progress (docs/handlers.md#progress): live for attempts in
   * flight (from the store's progress channel, never the log), else the last value an outcome kept. `live`: only the
   * live values (no read of the log's outcomes: what a poller asks many times). `events`: the run's log as the caller
   * read it already to make the view (`status` folds it): the outcomes are taken from there, not read again (an
   * archived run's log is read from its archive once, not twice).
   */
  withProgress(view: RunView, opts?: { live?: boolean; events?: readonly EventEnvelope[] }): Promise<RunView>;
  /** Every event of the run, in order; none for a run that does not exist. */
  history(runId: string): Promise<EventEnvelope[]>;
  /**
   * The run once it settles, or (`orWaiting`) also once it waits for a person
   * or is paused; at `timeoutMs`, as it is then. RunNotFoundError for no such run.
   */
  wait(runId: string, opts?: { timeoutMs?: number; orWaiting?: boolean }): Promise<RunView>;
  /** The run index's records the query matches, newest first; corrupt and damaged logs told to `opts`. */
  list(
    query: RunQuery,
    opts?: Pick<RunIndexOptions, 'onCorrupt' | 'onDamaged' | 'onWarning' | 'onProgress'>,
  ): Promise<RunRecord[]>;
  /** As `list`, with the page's cursors and how many runs match over every page (what `ledgerflow list` says of the rest). */
  page(
    query: RunQuery,
    opts?: Pick<RunIndexOptions, 'onCorrupt' | 'onDamaged' | 'onWarning' | 'onProgress'>,
  ): Promise<RunPage>;
  /**
   * `archive --older-than` (docs/retention.md): the settled runs the selection names moved to the store's archive.
   * Asks for L1 (run control), judged before anything moves.
   */
  archive(sel: ArchiveSelection, as: Acting): Promise<ArchivedRun[]>;
  /** `restore`: one archived run back into the live log and index. Asks for L1, judged before anything moves. */
  restore(runId: string, as: Acting): Promise<ArchivedRun>;
  /**
   * `blob gc` (docs/language.md#large-payloads): the bodies of large payloads no run, live or archived, refers to,
   * deleted (`dryRun`: only said). Asks for L1, judged before any is listed.
   */
  collectBlobs(opts: { graceMs?: number; dryRun?: boolean }, as: Acting): Promise<PayloadGcReport>;
}

/**
 * Runs that start runs (recorded, not driven: a `serve`, the caller or the engines drive it). A start is judged as the
 * CLI's `start` judges it (L1, or L2 for a workflow of its domains) and records who asked where a users file (embedded)
 * or the NATS user (the engines judge a person's) proved it.
 */
export interface StartingRuns extends Runs {
  /** `waitMs` (NATS): how long a person's start waits for an engine's verdict. */
  start(req: StartRequest, as: Acting, opts?: { waitMs?: number }): Promise<Started>;
  /** NATS: the deployed workflow `ref` (`<id>[@<version>]`) names; null where this user may not read the registry (the engines resolve a person's start). */
  resolve?(ref: string): Promise<Definition | null>;
}
