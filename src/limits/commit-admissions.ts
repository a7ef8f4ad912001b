/**
 * Concurrency limits as commits free their slots (admission.ts decides): a commit that settles a run of a workflow with
 * `concurrency:` admits the queued runs its slot lets in, and a QUEUED run about to be driven is admitted first if a
 * slot is free (a process that died between a settle and its admissions left it so). The runs admitted here are driven
 * here next, when this process drives runs at all (run, resume, approve, serve, ui): a process that frees a slot takes
 * the next run in, as long as there is one. On NATS the runs admitted by a client's commit (a start, a decision, a
 * cancel) are taken and the engines kicked about them instead (takeAdmitted).
 */
import type { Definition } from '../definition/index.js';
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import type { Clock } from '../executor/commit.js';
import { concurrencyKey } from './admission.js';
import { admitAfterCommit, admitWaiting } from './admission-batch.js';
import type { RunSnapshot } from '../runtime/index.js';

export class CommitAdmissions {
  private readonly pending = new Set<Promise<void>>();
  /** Runs admitted by this process, not driven yet. */
  private readonly admitted: string[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly onError?: (err: unknown) => void,
  ) {}

  /** Told every commit of a run driven here (or seen by its driver): a settle admits. Never throws; a failure is left to the next settle, resume or serve. */
  noteCommit(events: readonly EventEnvelope[], after: RunSnapshot, def: Definition): void {
    if (!def.concurrency) return;
    const p: Promise<void> = admitAfterCommit(this.store, this.clock, def, after.context.input, events)
      .then(
        (ids) => {
          this.admitted.push(...ids);
        },
        (err: unknown) => {
          this.onError?.(err);
        },
      )
      .finally(() => {
        this.pending.delete(p);
      });
    this.pending.add(p);
  }

  /** Runs a start admitted (a slot was free while they waited). */
  add(runIds: readonly string[]): void {
    this.admitted.push(...runIds);
  }

  /** A QUEUED run about to be driven: admitted now when its (workflow, key) has a free slot. True when something was admitted. */
  async beforeDrive(def: Definition, status: WorkflowStatus, input: Record<string, unknown>): Promise<boolean> {
    if (status !== 'QUEUED' || !def.concurrency) return false;
    const ids = await admitWaiting(this.store, this.clock, def, concurrencyKey(def, input));
    this.admitted.push(...ids);
    return ids.length > 0;
  }

  /** The runs admitted here and not driven (the list empties). */
  take(): string[] {
    return this.admitted.splice(0);
  }

  /** Resolves once the admissions under way have been decided. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /**
   * After a drive: waits for the admissions under way, then drives the runs admitted here with `drive`, all at once (no
   * more than the slots that freed); each one's own drive admits and drives what its settle lets in. A run another
   * process drives, or that this one cannot, is left to it, to resume or to a serve.
   */
  async drain(drive: (runId: string) => Promise<unknown>): Promise<void> {
    await this.flush();
    const batch = this.take();
    await Promise.all(batch.map((id) => drive(id).catch((err: unknown) => this.onError?.(err))));
  }
}
