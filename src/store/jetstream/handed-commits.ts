/**
 * A run's first commit handed from the process that appended it to the engine that drives the run: a start's kick
 * carries it (cluster/client/engine-messages.ts), and the engine folds it instead of fetching it back from the stream's
 * leader (a request less a run, and the wait for its reply). The writer keeps the first commits it appended only when
 * asked (a client that kicks); the reader takes a handed commit once, and only while it knows nothing newer of the run.
 * What it folds may then be behind the log (another engine moved the run on after a redelivered kick), which the next
 * append's expected sequence catches, as it catches any cached copy.
 */
import type { EventEnvelope } from '../../events/index.js';
import { StoreError } from '../../errors/index.js';
import { trimOldest } from '../../bounded.js';
import { checkStoredCommit } from '../common.js';
import { runSubject } from './codec.js';
import type { RunPos } from './run-positions.js';

/** A first commit as appended: its stream sequence, its subject and its JSON as stored. */
export interface WrittenCommit {
  position: number;
  subject: string;
  json: string;
}

/** A first commit as a message carries it: the stored JSON parsed, checked here before anything folds it. */
export interface HandedCommit {
  position: number;
  subject: string;
  commit?: unknown;
}

/** Commits kept on either side at most (a kick takes its commit within moments of the append). */
const KEPT = 1024;

export class HandedCommits {
  private readonly written = new Map<string, WrittenCommit>();
  private readonly given = new Map<string, { position: number; subject: string; events: EventEnvelope[] }>();
  private offered: ((runId: string) => boolean) | null = null;
  /** Reads answered from a commit handed over (each one a request to the stream's leader spared). */
  taken = 0;

  constructor(private readonly where: { stream: string; subjectPrefix: string }) {}

  /** From now on, keeps the first commits this store appends (of the runs `which` names), for takeWritten. */
  offer(which: (runId: string) => boolean = () => true): void {
    this.offered = which;
  }

  wrote(runId: string, commit: WrittenCommit): void {
    if (!this.offered?.(runId)) return;
    this.written.set(runId, commit);
    trimOldest(this.written, KEPT);
  }

  /** The first commit this store appended for `runId` (once), when it offers them. */
  takeWritten(runId: string): WrittenCommit | undefined {
    const commit = this.written.get(runId);
    if (commit) this.written.delete(runId);
    return commit;
  }

  /**
   * Takes a commit handed over as run `runId`'s first, for the run's next read here. Checked as a read from the
   * stream checks it (a commit of this run, from its first event, on the subject its workflow gives it): else a
   * StoreError, and nothing is kept.
   */
  give(runId: string, handed: HandedCommit): void {
    const place = `handed over as run ${runId}'s first commit (${this.where.stream} message ${handed.position})`;
    const fail = (why: string): never => {
      throw new StoreError(`${place}: ${why}`, { runId, position: handed.position });
    };
    const { events } = checkStoredCommit(handed.commit, runId, 0, place, fail);
    const subject = runSubject(this.where.subjectPrefix, events[0]!.workflowId, runId);
    if (handed.subject !== subject) fail(`its subject ${handed.subject} is not the run's, ${subject}`);
    this.given.set(runId, { position: handed.position, subject, events });
    trimOldest(this.given, KEPT);
  }

  /** Forgets what was handed over for `runId` and not read (the step it was handed for read the run otherwise, or failed). */
  drop(runId: string): void {
    this.given.delete(runId);
  }

  /**
   * The events handed over for `runId` (once), unless this store knows the run at another position (`known`: it
   * appended to it or read it since, and what it knows is newer).
   */
  takeGiven(runId: string, known: RunPos | undefined): { pos: RunPos; events: EventEnvelope[] } | undefined {
    const given = this.given.get(runId);
    if (!given) return undefined;
    this.given.delete(runId);
    if (known && known.lastStreamSeq !== given.position) return undefined;
    const { events } = given;
    this.taken++;
    const pos = {
      subject: given.subject,
      lastStreamSeq: given.position,
      lastEventSeq: events[events.length - 1]!.seq,
      lastFirstSeq: 1,
    };
    return { pos, events };
  }
}
