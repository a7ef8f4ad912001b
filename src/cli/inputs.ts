/** `--input-file` of `run` and `start` (their `--<input-name> <value>` flags: tail.ts). */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageError, errorMessage } from '../errors/index.js';

/** Inputs are a few values, not a data set: a larger file is a mistake (or /dev/zero), refused before reading. */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

/** The file's text, if it is a regular file of at most MAX_INPUT_FILE_BYTES. */
function readBoundedFile(path: string): string {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below like any non-regular file.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UsageError(`--input-file ${path} is not a regular file; give a JSON or YAML file`, { file: path });
    if (stat.size > MAX_INPUT_FILE_BYTES) {
      throw new UsageError(`--input-file ${path} has ${stat.size} bytes; an input file may have at most 1 MB (${MAX_INPUT_FILE_BYTES} bytes)`, { file: path, bytes: stat.size });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

export function readInputFile(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parse(readBoundedFile(path));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read --input-file ${path}: ${errorMessage(err)}`, { file: path });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`--input-file ${path} must hold a JSON or YAML object of input names to values`, { file: path });
  }
  return raw as Record<string, unknown>;
}
