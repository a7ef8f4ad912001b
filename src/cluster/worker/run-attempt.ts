/**
 * Running one attempt in a worker: the task's handler called with the
 * attempt's input and context (the same handler modules as in-process runs),
 * aborted at the attempt's deadline, its output made JSON and written to
 * output_to. The result is the outcome to report; publishing it is
 * report-outcome.ts's job, and which deliveries it answers is worker.ts's.
 */
import type { OutputWriter } from '../../files/index.js';
import { NonRetryableError } from '../../errors/index.js';
import { instanceFields, instanceKey } from '../../compiler/index.js';
import {
  handlerFor,
  HTTP_HANDLER,
  toTaskError,
  type CommandRunner,
  type Handlers,
  type HttpRunner,
} from '../../runtime/index.js';
import { ATTEMPT_KEY, AttemptControl, attemptKeyOf } from '../../executor/index.js';
import type { InputMessage, TaskMessage } from '../transport/index.js';
import { applySecrets, NO_MASK, type Masker, type SecretsProvider } from '../../secrets/index.js';

/** The executors a worker was given besides its handlers: COMMAND programs (--commands), HTTP requests (--http). */
export interface AttemptExecutors {
  commands?: CommandRunner | undefined;
  http?: HttpRunner | undefined;
}

export async function runAttempt(
  task: TaskMessage,
  handlers: Handlers,
  log: (line: string) => void,
  writeOutput: OutputWriter,
  executors: AttemptExecutors = {},
  outputLimit?: number,
  secrets?: SecretsProvider,
): Promise<InputMessage | null> {
  const runCommand = executors.commands;
  const base = { runId: task.runId, time: '', token: task.token };
  // The task id outside loops and maps; `task#2`, `task[3]` for a loop iteration or a MAP item (compiler/instances.ts).
  const instance = instanceKey({ task: task.taskId, ...instanceFields(task) });
  const now = () => new Date().toISOString();
  // Its AbortController is made only if the handler reads `signal` (one per attempt was 2% of the worker).
  const controller = new AttemptControl(task.attempt, task.restart ?? 0, {
    task: task.taskId,
    ...instanceFields(task),
  });
  const deadline = task.deadline
    ? setTimeout(
        () => controller.abort(new Error('the attempt timed out')),
        Math.max(0, Date.parse(task.deadline) - Date.now()),
      )
    : undefined;
  // The secrets the attempt names are put in now, read by this worker (the engine published references only);
  // every outcome and log line is masked before it leaves the worker.
  let mask: Masker = NO_MASK;
  // Only the handler's own failure fails the attempt: a report that cannot be published is not one.
  try {
    const resolved = await applySecrets(task.secrets, task.input, task.command, task.secrets ? secrets : undefined);
    mask = resolved.mask;
    const input = resolved.input;
    const context = {
      runId: task.runId,
      workflowId: task.workflowId,
      taskId: task.taskId,
      attempt: task.attempt,
      ...instanceFields(task),
      idempotencyKey: `${task.runId}/${instance}/${task.attempt}`,
      log: (line: string) => log(`${task.runId}/${instance}: ${mask.text(String(line))}`),
      workflowInput: task.workflowInput ?? {},
      // What a file agent keys its task file's token with (attempt-token.ts): made from the attempt's token, which it is not.
      [ATTEMPT_KEY]: attemptKeyOf(task.token),
    };
    // A getter on the object handed over: spreading a context that had it would read it.
    const withSignal = <T extends object>(fields: T): T & { readonly signal: AbortSignal } => ({
      ...fields,
      get signal() {
        return controller.signal;
      },
    });
    let output: unknown;
    if (resolved.command) {
      // A COMMAND task: the engine resolved what to run; the worker only runs it (the same executor as the local driver's).
      if (!runCommand)
        throw new NonRetryableError(
          `this worker does not run COMMAND tasks (task ${task.taskId}); start one with --commands`,
          'LF_COMMAND_UNAVAILABLE',
        );
      output = await runCommand(resolved.command, input, withSignal(context));
    } else if (task.handler === HTTP_HANDLER) {
      // An HTTP task: the engine resolved the request (its input); this worker sends it, to the hosts --http-allow lists.
      if (!executors.http)
        throw new NonRetryableError(
          `this worker does not run HTTP tasks (task ${task.taskId}); start one with --http --http-allow <hosts>`,
          'LF_HTTP_UNAVAILABLE',
        );
      output = await executors.http(input, withSignal(context));
    } else {
      const handler = handlerFor(handlers, task.handler);
      if (!handler)
        throw new NonRetryableError(
          `this worker has no handler named "${task.handler}" for task ${task.taskId}`,
          'LF_HANDLER_NOT_FOUND',
        );
      output = await handler(input, withSignal({ ...context, task: { id: task.taskId, ...task.task } }));
    }
    // Past its deadline the engine's timeout timer decides (TIMED_OUT, then the retry policy), as an in-process
    // driver's aborted attempt reports nothing: what a handler or command returns once aborted is not its outcome.
    if (controller.aborted) return null;
    const text = output === undefined ? 'null' : JSON.stringify(mask.value(output));
    if (outputLimit !== undefined && text.length > outputLimit / 3 && Buffer.byteLength(text) > outputLimit) {
      throw new NonRetryableError(
        `the output of task ${instance} is ${Buffer.byteLength(text).toLocaleString('en-US')} bytes as JSON, over the ${outputLimit.toLocaleString('en-US')} an outcome may carry on this NATS server (half its max_payload); return a reference (a path, a key, a URL) and keep the data elsewhere, e.g. in a file the task's output_to writes`,
        'LF_OUTPUT_TOO_LARGE',
      );
    }
    const json = text === undefined ? null : JSON.parse(text);
    // output_to is the worker's effect, as it is the local driver's: written (under the worker's output root) before the result is reported.
    // `!== undefined`, as the local driver: an output_to that resolved to '' is refused by the writer, not skipped.
    if (task.outputTo !== undefined) await writeOutput(task.outputTo, json);
    return {
      ...base,
      time: now(),
      type: 'task.completed',
      data: { task: task.taskId, attempt: task.attempt, ...instanceFields(task), output: json },
    };
  } catch (err) {
    if (controller.aborted) return null; // the same: a command killed at its deadline fails, but it timed out
    return {
      ...base,
      time: now(),
      type: 'task.failed',
      data: { task: task.taskId, attempt: task.attempt, ...instanceFields(task), error: mask.value(toTaskError(err)) },
    };
  } finally {
    if (deadline) clearTimeout(deadline);
  }
}
