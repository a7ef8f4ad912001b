/**
 * `--command-output-limit <bytes>`: how much of each stream of a COMMAND task is kept (default 1 MiB); the rest is read
 * and dropped, and the output says how much. Declared in options.ts for every command that runs tasks.
 */
import { UsageError } from '../../errors/index.js';
import type { CommandRunner } from '../../runtime/index.js';
import { createCommandExecutor, DEFAULT_COMMAND_OUTPUT_LIMIT } from '../../handlers/index.js';

const POWER: Record<string, number> = { k: 1, m: 2, g: 3 };

/** Bytes from `65536`, `64KiB`, `1MiB`, `1m` (k, m, g alone or with b or ib: powers of 1024); undefined: the default. */
export function parseCommandOutputLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_COMMAND_OUTPUT_LIMIT;
  const m = /^\s*(\d+)\s*(?:([kmg])(?:i?b)?|b)?\s*$/i.exec(text);
  const bytes = m ? Number(m[1]) * 1024 ** (POWER[m[2]?.toLowerCase() ?? ''] ?? 0) : NaN;
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
