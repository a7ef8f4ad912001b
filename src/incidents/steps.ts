/**
 * The built-in failure steps, performed by the executor driving the failure handler's run (runtime/failure-handler.ts):
 * the in-process Engine on the embedded store, the NATS engine. Each reads the failed run from the log (nothing else),
 * so running a step again (a retry, a resume after a crash) writes the same files and sends under the same id.
 *
 * - log_to_incident: `.3ox/incidents/<run>.yaml`; on NATS also published on `lf.incidents.<workflow>`
 *   (publishIncident).
 * - notify_commander: through the notifications configuration, to the targets of role `commander`
 *   (Notifier.sendToRole); says so when none is.
 * - preserve_state: `.3ox/preserved/<run>/` (state.yaml, outputs/, events.jsonl).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { failureRunId, spareChildRunId } from '../compiler/index.js';
import type { FailureStep } from '../definition/index.js';
import { AttemptFailedError, NonRetryableError } from '../errors/index.js';
import { RUN_ID_PATTERN } from '../events/index.js';
import type { RoleDelivery } from '../notify/index.js';
import { foldEvents, runView, type FailureStepContext, type FailureStepRunner } from '../runtime/index.js';
import { writeAtomically, type FoldedRun } from '../state-file/index.js';
import type { EventStore } from '../store/index.js';
import { foldLoaded } from '../executor/index.js';
import { incidentRecord, incidentText, preservedRun, type IncidentRecord } from './record.js';

/** The role notify_commander sends to (docs/notifications.md). */
export const COMMANDER_ROLE = 'commander';

export interface FailureStepsOptions {
  /** Where the failed run's log is. */
  store: EventStore;
  /** The project folder: its `.3ox/` gets incidents/ and preserved/. */
  projectDir: string;
  /** Sends to a role's targets (the process's Notifier); without it notify_commander says none is configured. */
  notifier?: {
    sendToRole(
      role: string,
      definition: Record<string, unknown>,
      workflowId: string,
      body: { id: string } & Record<string, unknown>,
      signal?: AbortSignal,
    ): Promise<RoleDelivery[]>;
  };
  /** On NATS: publishes the incident record (lf.incidents.<workflow>). */
  publishIncident?: (record: IncidentRecord) => Promise<string>;
}

export class FailureSteps implements FailureStepRunner {
  constructor(private readonly o: FailureStepsOptions) {}

  async run(step: FailureStep, input: Record<string, unknown>, ctx: FailureStepContext): Promise<unknown> {
    const { run, events } = await this.failedRun(input, ctx);
    switch (step) {
      case 'log_to_incident':
        return this.logToIncident(run, ctx);
      case 'notify_commander':
        return this.notifyCommander(run, events[0]!, ctx);
      case 'preserve_state':
        return this.preserveState(run, events);
    }
  }

  /** The failed run the step is about: only the run whose failure handler this is, and only once it has FAILED. */
  private async failedRun(input: Record<string, unknown>, ctx: FailureStepContext) {
    const id = input.failed_run;
    // A step of the failure handler of the run it names, nothing else: a workflow that names the handler itself cannot point it at another's run.
    if (typeof id !== 'string' || !RUN_ID_PATTERN.test(id) || !isFailureRunOf(id, ctx.runId)) {
      throw new NonRetryableError(
        `a built-in failure step runs only in the failure handler of the run it names (run ${ctx.runId} is not ${typeof id === 'string' ? `${id}'s` : 'one'}): write it in failure_workflow.steps, not as a task's handler`,
        'LF_FAILURE_STEP_REFUSED',
      );
    }
    const events = await this.o.store.read(id);
    if (events.length === 0)
      throw new NonRetryableError(`run ${id} is not in this store: nothing to report`, 'LF_FAILURE_STEP_REFUSED');
    const run: FoldedRun = await foldLoaded(this.o.store.blobs?.(), () => foldEvents(events));
    const status = runView(run.snapshot, run.seq).status;
    if (status !== 'FAILED')
      throw new NonRetryableError(
        `run ${id} is ${status}, not FAILED: its failure steps do not apply`,
        'LF_FAILURE_STEP_REFUSED',
      );
    return { run, events };
  }

  private dir(...parts: string[]): string {
    return join(this.o.projectDir, '.3ox', ...parts);
  }

  private shown(path: string): string {
    return relative(this.o.projectDir, path) || path;
  }

  private async logToIncident(run: FoldedRun, ctx: FailureStepContext): Promise<unknown> {
    const record = incidentRecord(run, ctx.runId);
    const file = this.dir('incidents', `${record.run_id}.yaml`);
    await writeAtomically(file, incidentText(record));
    const subject = this.o.publishIncident ? await this.o.publishIncident(record) : undefined;
    ctx.log(`incident ${record.incident} written to ${this.shown(file)}${subject ? `, published on ${subject}` : ''}`);
    return { incident: record.incident, file: this.shown(file), ...(subject ? { subject } : {}) };
  }

  private async notifyCommander(run: FoldedRun, first: { data: unknown }, ctx: FailureStepContext): Promise<unknown> {
    const record = incidentRecord(run, ctx.runId);
    const definition = (first.data as { definition?: Record<string, unknown> }).definition ?? {};
    const body = {
      id: `${record.run_id}/${COMMANDER_ROLE}`,
      kind: 'incident',
      role: COMMANDER_ROLE,
      incident: record.incident,
      runId: record.run_id,
      workflowId: record.workflow,
      version: record.version,
      status: record.status,
      failedTask: record.failed_task,
      error: record.error,
      time: record.failed_at,
    };
    const sent = this.o.notifier
      ? await this.o.notifier.sendToRole(COMMANDER_ROLE, definition, record.workflow, body, ctx.signal)
      : [];
    if (sent.length === 0) {
      const note = `no notification target has role ${COMMANDER_ROLE}: nobody was told (add \`- { role: ${COMMANDER_ROLE}, webhook: https://… }\` to notifications, docs/notifications.md)`;
      ctx.log(note);
      return { sent: [], note };
    }
    const failed = sent.filter((s) => !s.delivered);
    if (failed.length > 0) {
      // Thrown for the step's retry (a receiver that was down); what was delivered is delivered again under the same id.
      throw new AttemptFailedError(
        'LF_COMMANDER_UNREACHED',
        `the ${COMMANDER_ROLE} was not reached at ${failed.map((f) => `${f.target} (${f.error})`).join(', ')}`,
        true,
      );
    }
    ctx.log(`${COMMANDER_ROLE} notified at ${sent.map((s) => s.target).join(', ')}`);
    return { sent };
  }

  private async preserveState(run: FoldedRun, events: Parameters<typeof preservedRun>[1]): Promise<unknown> {
    const dir = this.dir('preserved', run.snapshot.context.runId);
    const { files } = preservedRun(run, events);
    // Whole again each time: a run preserved before (a retry of the step) keeps no file of an older copy.
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'outputs'), { recursive: true });
    for (const [name, text] of files) await writeAtomically(join(dir, name), text);
    return { dir: this.shown(dir), files: [...files.keys()] };
  }
}

/** Whether `runId` is the failure workflow run of `failed`: `<failed>-failure`, or its spare id when a run not its own took that. */
function isFailureRunOf(failed: string, runId: string): boolean {
  return failureRunId(failed) === runId || spareChildRunId(failureRunId(failed)) === runId;
}
