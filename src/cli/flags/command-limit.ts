/**
 * `--command-output-limit <bytes>`: how much of each stream of a COMMAND task is kept (default 1 MiB); the rest is read
 * and dropped, and the output says how much. Declared in options.ts for every command that runs tasks.
 */
import { parseSizeFlag } from './size.js';
import type { CommandRunner } from '../../runtime/index.js';
import { createCommandExecutor, DEFAULT_COMMAND_OUTPUT_LIMIT } from '../../handlers/index.js';

/** Bytes from `65536`, `64KiB`, `1MiB`, `1m` (k, m, g alone or with b or ib: powers of 1024); undefined: the default. */
export function parseCommandOutputLimit(text: string | undefined): number {
  return text === undefined ? DEFAULT_COMMAND_OUTPUT_LIMIT : parseSizeFlag('--command-output-limit', text);
}

/** The COMMAND executor the flag asks for (checked before anything runs). */
export function commandRunnerFlag(text: string | undefined): CommandRunner {
  return createCommandExecutor({ outputLimit: parseCommandOutputLimit(text) });
}
