/**
 * Values on their way between the NATS engines and workers, which both hold the data key: an attempt's input (and
 * the run's input it carries) sealed by the engine before it is queued on LF_TASKS_<queue> or offered, opened by the
 * worker that runs it; the outcome a worker reports (its output, its error's message) sealed by the worker before it
 * is published on LF_INPUTS or handed straight to an engine, opened by the engine before it is folded (and sealed again
 * as the event's own); a COMMAND's program line and variables, which templates fill with values, each string sealed. Each bound to its run, task and attempt. Without a key, messages go as before (clear).
 */
import { DataKeyError } from '../errors/index.js';
import {
  bodyOf,
  isSealedText,
  isSealedValue,
  openText,
  sealText,
  sealValue,
  sealedKeyId,
  SEALED_KEY,
} from './cipher.js';
import type { DataKey, KeyRing } from './keys.js';

interface AttemptRef {
  runId: string;
  taskId: string;
  attempt: number;
  input: Record<string, unknown>;
  workflowInput?: Record<string, unknown> | undefined;
  /** A COMMAND task's program line and variables, which templates fill with values. */
  command?: { argv: string[]; cwd?: string | undefined; env: Record<string, string> } | undefined;
}
interface OutcomeRef {
  runId: string;
  type: string;
  data: { task: string; attempt: number; output?: unknown; error?: { message: string } };
}

const aad = (runId: string, task: string, attempt: number, field: string) => `${runId}\n${task}\n${attempt}\n${field}`;

export function sealAttempt<T extends AttemptRef>(msg: T, key: DataKey): T {
  const at = (f: string) => aad(msg.runId, msg.taskId, msg.attempt, f);
  return {
    ...msg,
    input: isSealedValue(msg.input) ? msg.input : sealValue(key, at('task.input'), msg.input),
    ...(msg.workflowInput !== undefined && !isSealedValue(msg.workflowInput)
      ? { workflowInput: sealValue(key, at('task.workflowInput'), msg.workflowInput) }
      : {}),
    ...(msg.command
      ? {
          command: {
            ...msg.command,
            argv: msg.command.argv.map((a, i) => (isSealedText(a) ? a : sealText(key, at(`task.argv.${i}`), a))),
            env: Object.fromEntries(
              Object.entries(msg.command.env).map(([k, v]) => [
                k,
                isSealedText(v) ? v : sealText(key, at(`task.env.${k}`), v),
              ]),
            ),
          },
        }
      : {}),
  };
}

async function opened(
  ring: KeyRing,
  sealed: { [SEALED_KEY]: string } | string,
  place: string,
  at: string,
): Promise<string> {
  const body = bodyOf(sealed);
  const id = sealedKeyId(body) ?? '?';
  await ring.load([id]);
  const key = ring.cached(id);
  if (!key)
    throw new DataKeyError(
      'LF_DATA_KEY_MISSING',
      `${place} is sealed with data key ${id}, which no secrets provider of this process has: give it LF_DATA_KEY (KV LF_SECRETS, the --secrets file or LEDGERFLOW_SECRET_LF_DATA_KEY)`,
      { keyId: id },
    );
  return openText(key, at, body, { message: place });
}

export async function openAttempt<T extends AttemptRef>(msg: T, ring: KeyRing): Promise<T> {
  if (!isSealedValue(msg.input) && !isSealedValue(msg.workflowInput) && !msg.command?.argv.some(isSealedText))
    return msg;
  const at = (f: string) => aad(msg.runId, msg.taskId, msg.attempt, f);
  const place = `attempt ${msg.attempt} of ${msg.taskId} in run ${msg.runId}`;
  const out = { ...msg };
  if (isSealedValue(msg.input)) out.input = JSON.parse(await opened(ring, msg.input, place, at('task.input')));
  if (isSealedValue(msg.workflowInput))
    out.workflowInput = JSON.parse(await opened(ring, msg.workflowInput, place, at('task.workflowInput')));
  if (msg.command) {
    const argv: string[] = [];
    for (const [i, a] of msg.command.argv.entries())
      argv.push(isSealedText(a) ? await opened(ring, a, place, at(`task.argv.${i}`)) : a);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.command.env))
      env[k] = isSealedText(v) ? await opened(ring, v, place, at(`task.env.${k}`)) : v;
    out.command = { ...msg.command, argv, env };
  }
  return out;
}

export function sealOutcome<T extends OutcomeRef>(o: T, key: DataKey): T {
  const at = (f: string) => aad(o.runId, o.data.task, o.data.attempt, f);
  if (o.type === 'task.completed' && o.data.output !== undefined && !isSealedValue(o.data.output))
    return { ...o, data: { ...o.data, output: sealValue(key, at('report.output'), o.data.output) } };
  if (o.type === 'task.failed' && o.data.error && !isSealedText(o.data.error.message))
    return {
      ...o,
      data: { ...o.data, error: { ...o.data.error, message: sealText(key, at('report.error'), o.data.error.message) } },
    };
  return o;
}

export async function openOutcome<T extends OutcomeRef>(o: T, ring: KeyRing): Promise<T> {
  const at = (f: string) => aad(o.runId, o.data.task, o.data.attempt, f);
  const place = `the report of attempt ${o.data.attempt} of ${o.data.task} in run ${o.runId}`;
  if (isSealedValue(o.data.output))
    return {
      ...o,
      data: { ...o.data, output: JSON.parse(await opened(ring, o.data.output, place, at('report.output'))) },
    };
  if (o.data.error && isSealedText(o.data.error.message))
    return {
      ...o,
      data: {
        ...o.data,
        error: { ...o.data.error, message: await opened(ring, o.data.error.message, place, at('report.error')) },
      },
    };
  return o;
}
