/**
 * The files of the 1N/0UT protocol (docs/agents.md): the task message an agent reads (`1N.3OX/task-<run>-<task>.yaml`:
 * header, payload, routing) and the result it writes back (`0UT.3OX/result-<run>-<task>.yaml`). A result comes from
 * outside: it is capped in size, parsed as YAML and validated here, and whatever is wrong with it is said in one line
 * that names the file and the fix.
 */
import { parse } from 'yaml';
import { z } from 'zod';
import { errorMessage } from '../errors/index.js';
import type { TaskError } from '../events/index.js';

/** The most a result file may hold: an output is recorded in the run's log, and big data belongs in a file the output names. */
export const MAX_RESULT_BYTES = 1024 * 1024;

/** The header of a task message: what a 3OX `routeToAgent` writes, and the token a result must echo. */
export const TaskHeaderSchema = z.object({
  /** The run (the workflow instance; the file's name holds it too). */
  workflow_id: z.string().min(1),
  task_id: z.string().min(1),
  agent_level: z.string().nullable(),
  /** The task's `timeout:` (`30s`), null when it has none. */
  timeout: z.string().nullable(),
  attempt: z.number().int().positive(),
  token: z.string().min(1),
});

export const TaskMessageSchema = z.object({
  header: TaskHeaderSchema,
  payload: z.unknown(),
  routing: z.object({ iteration: z.number().int().optional(), item: z.number().int().optional() }).loose(),
});
export type TaskMessage = z.infer<typeof TaskMessageSchema>;

const ErrorField = z.union(
  [
    z.string().min(1),
    z.object({ message: z.string().min(1), code: z.string().optional(), retryable: z.boolean().optional() }),
  ],
  { error: 'expected a message, or { message, code?, retryable? }' },
);

/** A result file. Other keys an agent adds (a time stamp, notes) are ignored. */
const ResultSchema = z.discriminatedUnion(
  'status',
  [
    z.object({ token: z.string().min(1), status: z.literal('completed'), output: z.unknown().optional() }),
    z.object({ token: z.string().min(1), status: z.literal('failed'), error: ErrorField }),
  ],
  { error: 'expected status: completed (with output) or status: failed (with error)' },
);

export type AgentResult = { token: string; outcome: { output: unknown } | { error: TaskError } };

/** A task message this agent wrote (read back to pair a result with its attempt); null when it is not one. */
export function readTaskMessage(text: string): TaskMessage | null {
  try {
    const parsed = TaskMessageSchema.safeParse(parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // not ours (a hand-made file): the caller says so
  }
}

/**
 * A result file's text judged: its outcome, or why it is refused (nothing is recorded then). `bytes`: its size on disk,
 * checked before it is read at all.
 */
export function judgeResult(text: string): { ok: true; result: AgentResult } | { ok: false; reason: string } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return {
      ok: false,
      reason: `not YAML: ${errorMessage(err).split('\n')[0]}; write a YAML mapping (token:, status: completed|failed, output: or error:)`,
    };
  }
  const parsed = ResultSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return {
      ok: false,
      reason: `not a result${at}: ${issue.message}; write token: (the task file's header.token), status: completed with output:, or status: failed with error:`,
    };
  }
  const r = parsed.data;
  if (r.status === 'completed')
    return {
      ok: true,
      result: { token: r.token, outcome: { output: JSON.parse(JSON.stringify(r.output ?? null)) as unknown } },
    };
  const e = typeof r.error === 'string' ? { message: r.error } : r.error;
  // A failure is retried as a handler's is, unless the agent says it is not worth it.
  return {
    ok: true,
    result: {
      token: r.token,
      outcome: {
        error: {
          message: e.message,
          retryable: e.retryable ?? true,
          ...(e.code !== undefined ? { code: e.code } : {}),
        },
      },
    },
  };
}

/** Why a file of this size is refused, or null when it is within the cap. */
export function sizeRefusal(bytes: number): string | null {
  if (bytes === Number.POSITIVE_INFINITY)
    return 'not a plain file (a link, a folder): write the result itself, under its own name';
  return bytes > MAX_RESULT_BYTES
    ? `${bytes.toLocaleString('en-US')} bytes, over the ${MAX_RESULT_BYTES.toLocaleString('en-US')} a result may be (it is recorded in the run's log): write big data to a file and put its path in output`
    : null;
}
