/**
 * Running one attempt in a worker: its task message made the attempt the shared runner runs (executor/run-handler.ts,
 * as in-process runs do), aborted at its deadline, its output bounded by what an outcome may carry. The result is the
 * outcome to report; publishing it is report-outcome.ts's job, and which deliveries it answers is worker.ts's.
 */
import type { OutputWriter } from '../../files/index.js';
import { instanceFields, instanceKey } from '../../compiler/index.js';
import type { CommandRunner, Handlers, HttpRunner } from '../../runtime/index.js';
import { ATTEMPT_KEY, AttemptControl, attemptKeyFor, outcomeEvent, runHandler } from '../../executor/index.js';
import type { OutcomeMessage, TaskMessage } from '../transport/index.js';
import type { SecretsProvider } from '../../secrets/index.js';
import type { BlobStore } from '../../store/index.js';
import type { ProgressChannel } from '../../progress/index.js';

/** What a worker runs attempts with: its handlers, and the executors it was given (--commands, --http). */
export interface AttemptRunners {
  handlers: Handlers;
  commands?: CommandRunner | undefined;
  http?: HttpRunner | undefined;
  log: (line: string) => void;
  writeOutput: OutputWriter;
  outputLimit?: number;
  secrets?: SecretsProvider;
  /** The store's blobs (LF_BLOBS): the input's references read from it, an output too large for a message put there. */
  blobs?: BlobStore;
  /** Where the attempt's live progress goes (the LF_PROGRESS bucket). */
  progress?: ProgressChannel;
}

/** What a worker says of an attempt it cannot run: the flag that would let it. */
const REFUSALS = {
  COMMAND: (taskId: string) => `this worker does not run COMMAND tasks (task ${taskId}); start one with --commands`,
  HTTP: (taskId: string) =>
    `this worker does not run HTTP tasks (task ${taskId}); start one with --http --http-allow <hosts>`,
  handler: (taskId: string, handler: string) => `this worker has no handler named "${handler}" for task ${taskId}`,
};

/** `control`: what aborts the handler besides its deadline (a stopping worker giving the attempt back: give-back.ts). */
export async function runAttempt(
  task: TaskMessage,
  o: AttemptRunners,
  control = attemptControl(task),
): Promise<OutcomeMessage | null> {
  const ref = { task: task.taskId, ...instanceFields(task) };
  const instance = instanceKey(ref);
  const outcome = await runHandler(
    {
      ...task,
      instance,
      idempotencyKey: `${task.runId}/${instance}/${task.attempt}`,
      workflowInput: task.workflowInput ?? {},
      task: { id: task.taskId, ...task.task },
    },
    control,
    {
      handlers: o.handlers,
      commands: o.commands,
      http: o.http,
      secrets: () => o.secrets,
      writeOutput: o.writeOutput,
      log: (a, line) => o.log(`${a.runId}/${a.instance}: ${line}`),
      refusal: (missing, a) => REFUSALS[missing](a.taskId, a.handler),
      outputLimit: o.outputLimit,
      ...(o.blobs ? { blobs: o.blobs } : {}),
      ...(o.progress ? { progress: o.progress } : {}),
    },
    // What a file agent keys its task file's token with (attempt-token.ts): made from the attempt's token, which it is not.
    { deadline: task.deadline, extra: { [ATTEMPT_KEY]: attemptKeyFor(task.token) } },
  );
  return (
    outcome && {
      runId: task.runId,
      token: task.token,
      ...outcomeEvent(ref, task.attempt, outcome, new Date().toISOString()),
    }
  );
}

/** The control of the attempt's handler (its AbortSignal). */
export function attemptControl(task: TaskMessage): AttemptControl {
  return new AttemptControl(task.attempt, task.restart ?? 0, { task: task.taskId, ...instanceFields(task) });
}
