/**
 * `--command-output-limit <bytes>`: how much of each stream (stdout, stderr)
 * of a COMMAND task is kept (default 1 MiB); the rest is read and dropped, and
 * the output says how much. Shared by every command that runs tasks (run,
 * resume, emit, worker, and serve): the option is declared in options.ts,
 * `commandRunnerFlag` is the executor it gives.
 */
import { UsageError } from '../../errors/index.js';
import type { CommandRunner } from '../../runtime/index.js';
import { createCommandExecutor, DEFAULT_COMMAND_OUTPUT_LIMIT } from '../../handlers/index.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Bytes from `65536`, `64KiB`, `1MiB`, `1m` (units are powers of 1024); undefined: the default. */
export function parseCommandOutputLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_COMMAND_OUTPUT_LIMIT;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new UsageError(`--command-output-limit ${text} is not a size; give bytes, e.g. 65536, 64KiB or 1MiB`, {
      value: text,
    });
  }
  return bytes;
}

/** The COMMAND executor the flag asks for (checked before anything runs). */
export function commandRunnerFlag(text: string | undefined): CommandRunner {
  return createCommandExecutor({ outputLimit: parseCommandOutputLimit(text) });
}
