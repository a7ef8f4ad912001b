/**
 * The live execution log: each commit this process makes to a run whose definition says `monitoring: { log_to: PATH }`
 * appends its lines (lines.ts) to PATH, in commit order. A commit is made by exactly one process, so two processes
 * driving runs of one store each append their own commits' lines and none twice. The lines are a view of the log: a
 * crash between a commit and its lines loses lines, never a step, and `ledgerflow history <run> --format log` prints
 * them all again.
 *
 * A run's fold is kept between its commits (bounded, the oldest forgotten), so a commit costs its own events' folding,
 * not the run's whole log; a commit this process's engine folded brings its states along (foldedStatesOf) and costs no
 * folding at all.
 */
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { errorMessage } from '../errors/index.js';
import { OUTPUT_OUTSIDE_ROOT, resolveOutputPath } from '../files/index.js';
import { SETTLED_STATUSES, type EventEnvelope } from '../events/index.js';
import { compiledForRun, foldedStatesOf } from '../runtime/index.js';
import type { AppendRequest, EventStore, StoreObserver } from '../store/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import type { TaskDef } from '../definition/index.js';
import { executionLogOf, logEvent, startLogFold, tasksById, type LogFold, type ReportFrequency } from './lines.js';
import { trimOldest } from '../bounded.js';

/** Runs whose fold is kept between commits. */
const KEPT_RUNS = 1_000;
/** A failed write is said at most this often. */
const WARN_EVERY_MS = 60_000;
/**
 * Lines gather this long before they are appended: writes back to back (a drain loop) kept a thread of the pool
 * busy beside the store's synced appends. A command's end (close) appends what is pending at once.
 */
const GATHER_MS = 100;

/** Where a definition's lines go: `path` resolved against the project folder; `logTo` and `workflowId` as said in a warning. */
interface LogTarget {
  path: string;
  frequency: ReportFrequency;
  logTo: string;
  workflowId: string;
}
/** `fold` and `log` are null together: the run's definition keeps no execution log. */
interface Followed {
  fold: LogFold | null;
  seq: number;
  runId: string;
  log: LogTarget | null;
}
/** Lines waiting for their file, and what the first of them was written for (said when the file is refused). */
interface Pending {
  lines: string[];
  log: LogTarget;
  runId: string;
}

export interface ExecutionLogOptions {
  /** The project folder: `log_to` is relative to it and must stay inside it. */
  cwd: string;
  warn: (message: string) => void;
  now?: () => number;
}

export class ExecutionLogAppender implements StoreObserver {
  private readonly runs = new Map<string, Followed>();
  private chain: Promise<void> = Promise.resolve();
  private lastWarned = -Infinity;
  /** Lines waiting for their file, in commit order: one append per file takes all that came meanwhile. */
  private readonly pending = new Map<string, Pending>();
  private writing: Promise<void> | null = null;
  private closing = false;
  private hurry: (() => void) | null = null;
  /** Commits waiting in `chain` (one needed a read): the ones after it wait their turn, so lines keep commit order. */
  private reading = 0;
  /** Folders made already: a write makes its folder once, not before every append. */
  private readonly made = new Set<string>();
  /** Each definition's log (where, how much; null: none) and tasks by id, worked out once, not for every run. */
  private readonly definitions = new WeakMap<
    CompiledWorkflow,
    { log: LogTarget | null; tasks: ReadonlyMap<string, TaskDef> }
  >();

  constructor(
    private readonly store: EventStore,
    private readonly o: ExecutionLogOptions,
  ) {}

  appended(req: AppendRequest): void {
    // A commit of a run followed from its previous one (or its first) needs no read: its lines are worded at once,
    // unless a read is under way, whose lines come first.
    if (this.reading === 0) {
      try {
        if (this.takeAtOnce(req.runId, req.events)) return;
      } catch (err) {
        this.cannot(req.runId, err); // the log is a view: the commit that was made stands
        return;
      }
    }
    this.reading++;
    this.chain = this.chain
      .then(() => this.take(req.runId, req.events))
      .catch((err: unknown) => this.cannot(req.runId, err))
      .finally(() => {
        this.reading--;
      });
  }

  async close(): Promise<void> {
    await this.chain;
    this.closing = true;
    this.hurry?.();
    while (this.writing) await this.writing;
    this.closing = false;
  }

  /** The lines of a commit that needs no read (the run's first, or one following the last seen); false when it does. */
  private takeAtOnce(runId: string, events: readonly EventEnvelope[]): boolean {
    const first = events[0];
    if (!first) return true;
    const run = this.runs.get(runId);
    if (run && run.seq === first.seq - 1) {
      this.words(run, events, []);
      return true;
    }
    if (first.seq !== 1 || first.type !== 'run.started') return false;
    this.begin(runId, first, events, []);
    return true;
  }

  private async take(runId: string, events: readonly EventEnvelope[]): Promise<void> {
    if (this.takeAtOnce(runId, events)) return;
    // Not followed from its previous commit: the run folded from its log up to this commit.
    // Its run.started says whether it keeps a log at all; only then is the rest of its history read and folded.
    const first = events[0]!;
    const start = (await this.store.read(runId, { toSeq: 1 }))[0];
    if (!start || start.type !== 'run.started') return;
    const earlier =
      this.target(start).log && first.seq > 2 ? await this.store.read(runId, { fromSeq: 2, toSeq: first.seq - 1 }) : [];
    this.begin(runId, start, events, earlier);
  }

  /** Follows a run from its run.started and the events `earlier` than this commit, then words the commit. */
  private begin(
    runId: string,
    start: Extract<EventEnvelope, { type: 'run.started' }>,
    events: readonly EventEnvelope[],
    earlier: readonly EventEnvelope[],
  ): void {
    const first = events[0]!;
    const { log, tasks } = this.target(start);
    if (!log) {
      // it keeps no execution log: nothing is folded for it
      this.remember(runId, { fold: null, seq: events.at(-1)!.seq, runId, log: null });
      return;
    }
    const begun = startLogFold(start, log.frequency, first.seq === 1 ? foldedStatesOf(events)?.[0] : undefined, tasks);
    for (const ev of earlier) logEvent(begun.fold, ev, 'per_task');
    const run: Followed = { fold: begun.fold, seq: Math.max(1, first.seq - 1), runId, log };
    this.remember(runId, run);
    this.words(run, events, first.seq === 1 ? begun.lines : []);
  }

  /** Words a commit of a followed run and queues its lines. */
  private words(run: Followed, events: readonly EventEnvelope[], lines: string[]): void {
    const last = events.at(-1)!;
    // A settled run makes no more commits as a rule: it is followed no further (kept, a second's worth of folds
    // outlived the young generation). A commit after all (a late input) is followed from its log, as any run not followed is.
    if (SETTLED_STATUSES.includes(last.state.status)) this.runs.delete(last.runId);
    if (!run.fold || !run.log) {
      run.seq = last.seq;
      return;
    } // its definition keeps no execution log: nothing to fold
    // The states the engine's fold made for this commit: the lines are worded from them, not from a second fold.
    const states = foldedStatesOf(events);
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (ev.seq <= run.seq) continue; // the run.started a fresh fold began with
      lines.push(...logEvent(run.fold, ev, run.log.frequency, states?.[i]));
      run.seq = ev.seq;
    }
    if (lines.length > 0) this.queue(run, run.log, lines);
  }

  /** Lines for `path`, appended with the others queued by then in one write (a write per commit cost the engine half its throughput). */
  private queue(run: Followed, log: LogTarget, lines: string[]): void {
    const list = this.pending.get(log.path);
    if (list) list.lines.push(...lines);
    else this.pending.set(log.path, { lines: [...lines], log, runId: run.runId });
    this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        if (!this.closing)
          await new Promise<void>((r) => {
            const t = setTimeout(r, GATHER_MS);
            this.hurry = () => {
              clearTimeout(t);
              r();
            };
          });
        this.hurry = null;
        const [path, { lines, log, runId }] = this.pending.entries().next().value!;
        this.pending.delete(path);
        try {
          // Where the path really lands, its symlinks resolved (a `logs` linked to a folder elsewhere): outside
          // the project folder it is refused as `../x` is, and never written through a link named as the file.
          const real = await resolveOutputPath(this.o.cwd, path).catch((err: unknown) => {
            if ((err as { code?: unknown }).code === OUTPUT_OUTSIDE_ROOT) return null;
            throw err;
          });
          if (real === null) {
            this.outside(log, runId);
            continue;
          }
          if (!this.made.has(dirname(real))) {
            await mkdir(dirname(real), { recursive: true });
            this.made.add(dirname(real));
          }
          const fh = await open(
            real,
            constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
            0o666,
          );
          try {
            await fh.appendFile(`${lines.join('\n')}\n`);
          } finally {
            await fh.close();
          }
        } catch (err) {
          this.warn(
            `cannot write the execution log ${path}: ${errorMessage(err)}; \`ledgerflow history <runId> --format log\` prints a run's lines`,
          );
        }
      }
    } finally {
      this.writing = null;
    }
  }

  /**
   * Where the run's definition logs to, inside the project folder (null when it keeps no execution log), and its
   * tasks by id; worked out once per definition (the fold's compiled workflow is one per definition).
   */
  private target(started: Extract<EventEnvelope, { type: 'run.started' }>): {
    log: LogTarget | null;
    tasks: ReadonlyMap<string, TaskDef>;
  } {
    const compiled = compiledForRun(started);
    const known = this.definitions.get(compiled);
    if (known) return known;
    const log = executionLogOf(compiled);
    const path = log ? resolve(this.o.cwd, log.logTo) : '';
    const rel = relative(this.o.cwd, path);
    if (log && (rel === '' || rel.startsWith('..') || isAbsolute(rel))) {
      // Said for each run (at most once a minute), so not kept.
      this.outside({ logTo: log.logTo, workflowId: started.workflowId }, started.runId);
      return { log: null, tasks: new Map() };
    }
    const made = {
      log: log ? { path, frequency: log.frequency, logTo: log.logTo, workflowId: started.workflowId } : null,
      tasks: log ? tasksById(compiled) : new Map<string, TaskDef>(),
    };
    this.definitions.set(compiled, made);
    return made;
  }

  /** A log_to that leads out of the project folder (`../x`, or a symlink to a folder elsewhere): nothing is written. */
  private outside(log: Pick<LogTarget, 'logTo' | 'workflowId'>, runId: string): void {
    this.warn(
      `${log.workflowId}'s monitoring.log_to ${log.logTo} is outside the project folder ${this.o.cwd}: no execution log is written for run ${runId}`,
    );
  }

  private remember(runId: string, run: Followed): void {
    this.runs.delete(runId);
    this.runs.set(runId, run);
    trimOldest(this.runs, KEPT_RUNS);
  }

  private cannot(runId: string, err: unknown): void {
    this.warn(
      `cannot write the execution log of run ${runId}: ${errorMessage(err)}; \`ledgerflow history ${runId} --format log\` prints its lines`,
    );
  }

  private warn(message: string): void {
    const now = (this.o.now ?? Date.now)();
    if (now - this.lastWarned < WARN_EVERY_MS) return;
    this.lastWarned = now;
    this.o.warn(message);
  }
}
