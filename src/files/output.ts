/**
 * `output_to`: a task's output written as YAML where the definition says (an effect at the edge), confined to an output
 * root. The path comes from a template over run inputs, so it is untrusted: `../` segments, absolute paths and symlinks
 * that lead out of the root fail the task instead of writing there; a path that is empty, names a directory or turns
 * out to be one (LF_OUTPUT_TO_DIRECTORY), or holds a NUL (LF_NUL_CHARACTER) fails it too, not retryable, rather than
 * with a raw EISDIR or ERR_INVALID_ARG_VALUE.
 */
import { lstat, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { namesADirectory, NUL_CHARACTER, OUTPUT_TO_DIRECTORY } from '../definition/index.js';
import { NonRetryableError, UsageError } from '../errors/index.js';

/** Writes one task's output; `path` is the resolved `output_to`. */
export type OutputWriter = (path: string, output: unknown) => Promise<void>;

export const OUTPUT_OUTSIDE_ROOT = 'LF_OUTPUT_OUTSIDE_ROOT';

const HOW_TO_CHANGE =
  'change the root with --output-root <dir> (or LEDGERFLOW_OUTPUT_ROOT; `outputRoot` in the library)';

function outside(path: string, resolved: string, root: string, why = 'which is outside'): NonRetryableError {
  return new NonRetryableError(
    `output_to "${path}" resolves to ${resolved}, ${why} the output root ${root}; write under the root, or ${HOW_TO_CHANGE}`,
    OUTPUT_OUTSIDE_ROOT,
  );
}

function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

const missing = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Where `path` really lands under `root`: relative paths resolve against the root, and the deepest part that exists is
 * resolved with its symlinks, so a link inside the root that points outside is caught too. Throws a NonRetryableError
 * (LF_OUTPUT_OUTSIDE_ROOT) when that is not inside the root.
 */
export async function resolveOutputPath(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const target = resolve(realRoot, path);
  const rest: string[] = [];
  let existing = target;
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch (err) {
      if (!missing(err) || dirname(existing) === existing) throw err;
      rest.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
  let real: string;
  try {
    real = await realpath(existing);
  } catch (err) {
    // A dangling symlink: writing through it would create its target, wherever that is.
    if (missing(err))
      throw outside(path, existing, realRoot, 'a symlink whose target does not exist, so it may lead outside');
    throw err;
  }
  const resolved = join(real, ...rest);
  if (!isInside(realRoot, resolved)) throw outside(path, resolved, realRoot);
  return resolved;
}

/**
 * Writes `output` as YAML at `path`, confined to `root` (default: the current directory of this process when it writes,
 * where relative paths have always gone).
 */
export async function writeOutputFile(path: string, output: unknown, root: string = process.cwd()): Promise<void> {
  // What validation refuses when output_to is written out, refused here when a template gave it (the same codes).
  if (path.includes('\0'))
    throw new NonRetryableError(
      `output_to ${JSON.stringify(path)} holds a NUL character (\\0), which no path can carry; fix the template or the input it reads`,
      NUL_CHARACTER,
    );
  if (namesADirectory(path)) throw isDirectory(path, path.trim() === '' ? 'is empty' : 'names a directory');
  const target = await resolveOutputPath(root, path);
  if ((await stat(target).catch(() => null))?.isDirectory())
    throw isDirectory(path, `resolves to ${target}, a directory`);
  await mkdir(dirname(target), { recursive: true });
  try {
    await writeFile(target, stringify(output, { aliasDuplicateObjects: false }));
  } catch (err) {
    // Made a directory since the check above.
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw isDirectory(path, `resolves to ${target}, a directory`);
    throw err;
  }
}

function isDirectory(path: string, what: string): NonRetryableError {
  return new NonRetryableError(
    `output_to ${JSON.stringify(path)} ${what}, not a file the output can be written to; name a file (e.g. out/<task>.yaml)`,
    OUTPUT_TO_DIRECTORY,
  );
}

const ExistingDirectory = z
  .string()
  .min(1)
  .transform((p) => resolve(p))
  .refine((p) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true, {
    message: 'is not an existing directory',
  });

/** An output root from a flag, variable or option, checked at the boundary: an existing directory, made absolute. */
export function parseOutputRoot(value: unknown, source: string): string {
  const r = ExistingDirectory.safeParse(value);
  if (!r.success) {
    throw new UsageError(
      `${source} ${JSON.stringify(value)} must be an existing directory (output_to files are written under it)`,
      { value: typeof value === 'string' ? value : null },
      'LF_OUTPUT_ROOT_INVALID',
    );
  }
  return r.data;
}

/** A writer bound to one root (checked now); without one, the process's current directory at each write. */
export function outputWriter(root?: string, source = 'outputRoot'): OutputWriter {
  if (root === undefined) return (path, output) => writeOutputFile(path, output);
  const checked = parseOutputRoot(root, source);
  return (path, output) => writeOutputFile(path, output, checked);
}
