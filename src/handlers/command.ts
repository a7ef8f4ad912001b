/**
 * The COMMAND executor: runs one attempt's program, the edge both the local driver and the NATS worker use (the runtime
 * only resolves what to run).
 *
 * - `spawn` without a shell: argv[0] is the program (looked up on PATH), every other element reaches it as one
 *   argument, as written. Nothing is interpreted, so `; rm -rf /` in an argument is just text.
 * - Its own process group (`detached`): a timeout or a cancel sends SIGTERM to the whole group, SIGKILL 2 s later, so
 *   what the command started dies with it. What a command leaves running in its group when it exits is stopped the same
 *   way. The group is listed with this process's watchdog (orphan-guard.ts), which stops it the same way if this
 *   process is killed (-9 included) before it ends: no program outlives the attempt's process.
 * - The task's `input` as JSON on stdin; env = this process's + the task's `env` + LF_RUN_ID, LF_TASK_ID, LF_ATTEMPT,
 *   LF_IDEMPOTENCY_KEY, LF_INIT_CWD (the directory ledgerflow runs in, where relative paths in inputs were meant), and
 *   this package's `bin` directory first on PATH (a command can call `ledgerflow`), and LEDGERFLOW_PROGRESS_FD (3): the
 *   descriptor its progress lines go on (progress-fd.ts).
 * - Output: stdout, when it is a JSON object or list, is the output; else `{ stdout, stderr, exit_code }`. Each stream
 *   is kept up to `outputLimit` bytes; past it the rest is read and dropped (the child never blocks on a full pipe) and
 *   the output says so: `truncated: { stdout: <bytes dropped> }`.
 * - Exit code ≠ 0: LF_COMMAND_EXIT (retryable) with the stderr tail; program not found: LF_COMMAND_NOT_FOUND (not
 *   retryable), naming the program, the PATH and cwd it was looked for in; an argument, cwd or env value that resolved
 *   to a NUL character: LF_NUL_CHARACTER (not retryable; spawn would throw ERR_INVALID_ARG_VALUE).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../files/index.js';
import { spawnGuarded } from './orphan-guard.js';
import { PROGRESS_FD, readProgressLines } from './progress-fd.js';
import { NUL_CHARACTER } from '../definition/index.js';
import { NonRetryableError, errorMessage } from '../errors/index.js';
import type { AttemptCommand, CommandContext, CommandRunner } from '../runtime/index.js';

/** Default cap per stream (stdout, stderr): 1 MiB. */
export const DEFAULT_COMMAND_OUTPUT_LIMIT = 1024 * 1024;
/** How much of stderr's end a failure message quotes. */
const STDERR_TAIL = 2000;
/** stderr lines passed on as the attempt's log lines (live progress), at most this many. */
const LOG_LINES = 50;
/** Between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

export interface CommandExecutorOptions {
  /** Bytes kept per stream (stdout, stderr); the rest is read and dropped. Default 1 MiB. */
  outputLimit?: number;
}

/** A command that ran and failed: retryable unless said otherwise. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Keeps the first `limit` bytes of a stream and counts the rest; remembers its last bytes for a failure message. */
class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  private tailBuf: Buffer = Buffer.alloc(0);

  /** `keepTail`: remember the last bytes too (stderr, for a failure message). */
  constructor(
    private readonly limit: number,
    private readonly keepTail = false,
  ) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.kept;
    if (room >= chunk.length) {
      this.chunks.push(chunk);
      this.kept += chunk.length;
    } else {
      // Past the cap: counted and dropped (a gigabyte costs a counter, not memory).
      if (room > 0) {
        this.chunks.push(chunk.subarray(0, room));
        this.kept += room;
      }
      this.dropped += chunk.length - Math.max(0, room);
    }
    // The tail: the stream's last bytes, whatever was kept.
    if (this.keepTail)
      this.tailBuf =
        chunk.length >= STDERR_TAIL
          ? Buffer.from(chunk.subarray(chunk.length - STDERR_TAIL))
          : Buffer.concat([this.tailBuf, chunk]).subarray(-STDERR_TAIL);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  tail(): string {
    return this.tailBuf.toString('utf8').trim();
  }
}

/** The output a command's stdout gives: the JSON object or list it printed, else its text. */
function outputOf(stdout: Capture, stderr: Capture, exitCode: number): unknown {
  const truncated = {
    ...(stdout.dropped > 0 ? { stdout: stdout.dropped } : {}),
    ...(stderr.dropped > 0 ? { stderr: stderr.dropped } : {}),
  };
  const capped = Object.keys(truncated).length > 0 ? { truncated } : {};
  const text = stdout.text();
  if (stdout.dropped === 0) {
    const trimmed = text.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (Array.isArray(parsed)) return parsed;
        if (parsed !== null && typeof parsed === 'object') return { ...parsed, ...capped };
      } catch {
        /* not JSON: its text is the output */
      }
    }
  }
  return { stdout: text, stderr: stderr.text(), exit_code: exitCode, ...capped };
}

/** Signals the child's whole process group (0: only asks whether any process of it is still there); false when it is gone. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** This package's bin directory (where `ledgerflow` is), if it can be found. */
function binDir(): string | undefined {
  try {
    return join(packageRoot(), 'bin');
  } catch {
    return undefined;
  }
}

/** Where the command runs: its `cwd` (relative to the definition's directory), else the definition's directory, else this process's. */
export function commandCwd(command: AttemptCommand, definitionFile: string | undefined): string {
  const base = definitionFile ? dirname(resolve(definitionFile)) : process.cwd();
  return command.cwd === undefined ? base : resolve(base, command.cwd);
}

export function createCommandExecutor(opts: CommandExecutorOptions = {}): CommandRunner {
  const limit = opts.outputLimit ?? DEFAULT_COMMAND_OUTPUT_LIMIT;
  return (command, input, ctx) => runCommand(command, input, ctx, limit);
}

function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('LEDGERFLOW_SECRET')) out[k] = v;
  return out;
}

async function runCommand(
  command: AttemptCommand,
  input: Record<string, unknown>,
  ctx: CommandContext,
  limit: number,
): Promise<unknown> {
  const [program, ...args] = command.argv;
  if (!program)
    throw new NonRetryableError(
      `task ${ctx.taskId}: its command is empty; give at least the program`,
      'LF_COMMAND_NOT_FOUND',
    );
  // A template that resolved to a NUL: spawn would throw ERR_INVALID_ARG_VALUE; the same refusal validation gives a literal one.
  const withNul = [
    ...command.argv.map((v, i) => [`command[${i}]`, v] as const),
    ['cwd', command.cwd] as const,
    ...Object.entries(command.env).map(([k, v]) => [`env ${k}`, v] as const),
  ].find(([, v]) => typeof v === 'string' && v.includes('\0'));
  if (withNul)
    throw new NonRetryableError(
      `task ${ctx.taskId}: ${withNul[0]} resolves to a value with a NUL character (\\0), which no program argument or environment value can carry; fix the template or the input it reads`,
      NUL_CHARACTER,
    );
  const cwd = commandCwd(command, ctx.definitionFile);
  const isDir = (() => {
    try {
      return statSync(cwd).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!isDir)
    throw new NonRetryableError(
      `task ${ctx.taskId}: working directory ${cwd} does not exist or is not a directory (its cwd${command.cwd !== undefined ? ` "${command.cwd}"` : ''})`,
      'LF_COMMAND_CWD',
    );
  const bin = binDir();
  const basePath = command.env.PATH ?? process.env.PATH ?? '';
  const env: NodeJS.ProcessEnv = {
    // The engine's own secrets (LEDGERFLOW_SECRET_<NAME>, the secrets file's path) are not a program's: it gets those its task names in `env`.
    ...withoutSecrets(process.env),
    ...command.env,
    LF_RUN_ID: ctx.runId,
    LF_WORKFLOW_ID: ctx.workflowId,
    LF_TASK_ID: ctx.taskId,
    LF_ATTEMPT: String(ctx.attempt),
    LF_IDEMPOTENCY_KEY: ctx.idempotencyKey,
    LF_INIT_CWD: process.cwd(),
    LEDGERFLOW_PROGRESS_FD: String(PROGRESS_FD),
    PATH: bin ? `${bin}${delimiter}${basePath}` : basePath,
  };
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const stdout = new Capture(limit);
  const stderr = new Capture(limit, true);
  let child: ChildProcess;
  let unguard: () => void;
  try {
    // Stopped by the watchdog should this process die before the group is gone; off its list once it is.
    ({ child, unguard } = spawnGuarded(() =>
      spawn(program, args, {
        cwd,
        env,
        detached: true,
        // fd 3: the program's progress lines (progress-fd.ts).
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
      }),
    ));
  } catch (err) {
    // spawn throws (rather than emitting 'error') for arguments it refuses outright: the same ones would be refused again.
    throw new NonRetryableError(
      `task ${ctx.taskId}: could not start "${program}": ${errorMessage(err)}`,
      'LF_COMMAND_SPAWN',
    );
  }
  child.stdout!.on('data', (c: Buffer) => stdout.push(c));
  readProgressLines(child.stdio[PROGRESS_FD] as Readable | null, ctx.progress);
  // stderr's first lines are also the attempt's log (the CLI shows them as progress, as a handler's ctx.log).
  let logged = 0;
  let partial = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr.push(c);
    if (logged >= LOG_LINES) return;
    const lines = (partial + c.toString('utf8')).split('\n');
    partial = (lines.pop() ?? '').slice(0, 1000);
    for (const line of lines) {
      if (line === '') continue;
      if (logged++ < LOG_LINES) ctx.log(line.length > 1000 ? `${line.slice(0, 1000)}…` : line);
      if (logged === LOG_LINES) ctx.log('(further stderr lines are not shown here; the output keeps them)');
    }
  });
  // A command that does not read its input closes the pipe: that is its business, not a failure.
  child.stdin!.on('error', () => {});
  child.stdin!.end(JSON.stringify(input));

  let killTimer: NodeJS.Timeout | undefined;
  let aborted = false;
  /** SIGTERM to the group, SIGKILL to what is left of it after the grace. */
  const stopGroup = () => {
    if (!killGroup(child, 'SIGTERM') || killTimer) return;
    killTimer = setTimeout(() => {
      if (killGroup(child, 0)) killGroup(child, 'SIGKILL');
      unguard();
    }, KILL_GRACE_MS);
    killTimer.unref();
  };
  const onAbort = () => {
    aborted = true;
    stopGroup();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolveExit, rejectSpawn) => {
        let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
        child.once('error', (err: NodeJS.ErrnoException) => {
          if (exit) return;
          rejectSpawn(err);
        });
        child.once('exit', (code, signal) => {
          exit = { code, signal };
          // What it left running in its group (a background `sleep &`) would hold the pipes open: stop it too.
          if (killGroup(child, 0)) stopGroup();
        });
        // 'close': the process exited and every holder of its pipes is gone: all output is read.
        child.once('close', (code, signal) => resolveExit(exit ?? { code, signal }));
      },
    ).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        const where =
          isAbsolute(program) || program.includes('/')
            ? `(looked for it relative to ${cwd})`
            : `on PATH (${env.PATH}) from ${cwd}`;
        throw new NonRetryableError(
          `task ${ctx.taskId}: program "${program}" was not found ${where}; install it or fix command[0]`,
          'LF_COMMAND_NOT_FOUND',
        );
      }
      if (err.code === 'EACCES')
        throw new NonRetryableError(
          `task ${ctx.taskId}: program "${program}" is not executable (in ${cwd}); chmod +x it or run it through its interpreter, e.g. [sh, ${program}]`,
          'LF_COMMAND_NOT_FOUND',
        );
      throw new CommandError(
        `task ${ctx.taskId}: could not start "${program}": ${err.message}`,
        'LF_COMMAND_SPAWN',
        true,
      );
    });
    if (aborted || ctx.signal.aborted) throw ctx.signal.reason ?? new Error('the attempt was aborted');
    const capped = [
      stdout.dropped > 0 ? `stdout: ${stdout.dropped} bytes past the ${limit}-byte cap dropped` : '',
      stderr.dropped > 0 ? `stderr: ${stderr.dropped} bytes past the ${limit}-byte cap dropped` : '',
    ]
      .filter(Boolean)
      .join('; ');
    if (capped) ctx.log(`output capped (${capped})`);
    if (result.code !== 0) {
      const how = result.code === null ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      // One line, as every view shows an error: stderr's lines joined by ⏎ (a newline would be shown as a literal \n).
      const tail = stderr.tail().trimEnd().split(/\r?\n/).join(' ⏎ ');
      throw new CommandError(
        `command ${program} ${how}${tail ? `; stderr (last ${STDERR_TAIL} bytes at most): ${tail}` : ' (no stderr)'}${capped ? ` [${capped}]` : ''}`,
        'LF_COMMAND_EXIT',
        true,
      );
    }
    return outputOf(stdout, stderr, 0);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    // A group still being stopped stays listed until its SIGKILL (the kill timer takes it off).
    if (!killTimer || !killGroup(child, 0)) unguard();
  }
}
