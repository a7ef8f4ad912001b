/**
 * COMMAND tasks, as the runtime sees them: what an attempt runs (argv, cwd, env, resolved from the task's templates
 * when the attempt starts: pure, in effects.ts) and the shape of the executor that runs it. The executor is an edge
 * (src/handlers/command.ts spawns processes); the driver and the NATS worker are given one, so nothing here does I/O.
 */
import type { CommandTask } from '../definition/index.js';
import { resolveTemplate, type Scope, type SecretSite } from '../expressions/index.js';
import type { TaskContext } from './handlers.js';

/** The handler name COMMAND attempts travel under (the NATS subject lf.q.<queue>._command): definition/task-handlers.ts. */
export { COMMAND_HANDLER, HTTP_HANDLER } from '../definition/index.js';

/** One attempt's command, its templates resolved. */
export interface AttemptCommand {
  /** The program, then its arguments: passed to the program as they are (no shell). */
  readonly argv: string[];
  /** Working directory; relative: to the executor's base (the definition's directory, else its current one). Absent: that base. */
  readonly cwd?: string;
  /** Added to the process environment. */
  readonly env: Record<string, string>;
}

/** What a command is told of its attempt: a handler's context less the task info (one shape, so both stay alike). */
export type CommandContext = Omit<TaskContext, 'task' | 'workflowInput' | 'progress'> & {
  /** Where the program's progress lines go (the runner reads them from the descriptor docs/handlers.md names); absent: ignored. */
  progress?: TaskContext['progress'];
  /** The definition's file, when known (embedded runs record it): its directory is the default cwd and what a relative `cwd` resolves against. */
  definitionFile?: string;
};

/** Runs one attempt's command with the input on stdin; resolves to the output, rejects with the failure (a TaskError-like error). */
export type CommandRunner = (
  command: AttemptCommand,
  input: Record<string, unknown>,
  ctx: CommandContext,
) => Promise<unknown>;

/**
 * Sends one HTTP task's request (its attempt's input, resolved: `{ method, url, headers, query, body, expect,
 * max_response_bytes }`, definition/http.ts) and resolves to `{ status, headers, body }`, or rejects with the
 * failure (src/handlers/http.ts: retryable for 5xx, 429 and network errors, with `retryAfterMs` from Retry-After).
 */
export type HttpRunner = (request: Record<string, unknown>, ctx: CommandContext) => Promise<unknown>;

/** A resolved template value as an argument: text as it is, other scalars as text, objects and lists as JSON, null as ''. */
function asArg(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The command of an attempt of `task`, its argv, cwd and env resolved in `scope` (the run as it is when the attempt starts). Pure. */
export function resolveCommand(task: CommandTask, scope: Scope, secrets?: SecretSite[]): AttemptCommand {
  const argv = task.command.map((a, i) => asArg(resolveTemplate(a, scope, secrets, ['command', 'argv', i])));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(task.env))
    env[k] = asArg(resolveTemplate(v, scope, secrets, ['command', 'env', k]));
  const cwd = task.cwd === undefined ? undefined : asArg(resolveTemplate(task.cwd, scope));
  return { argv, ...(cwd ? { cwd } : {}), env };
}
