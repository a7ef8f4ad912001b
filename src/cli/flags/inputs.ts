/**
 * A run's inputs as `run` and `start` take them besides their `--<input-name> <value>` flags (tail.ts):
 * `--input '<JSON object>'` inline, and `--input-file <file>` (JSON or YAML; `-` reads stdin). Each is checked with zod
 * to be an object of input names to values, and a mistake names the flag and how to write it.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { UsageError, errorMessage } from '../../errors/index.js';

/**
 * An input may be large (its large fields are kept apart from the events: docs/language.md#large-payloads), but not
 * without end: a larger file is a mistake (or /dev/zero), refused before reading. 256 MiB: well within what one string
 * of JSON may be in Node.
 */
export const MAX_INPUT_FILE_BYTES = 256 * 1024 * 1024;
const LIMIT_TEXT = '256 MiB';

/** An object of input names to values; the workflow's own input schema judges the values (the engine, at start). */
const InputObject = z.record(z.string(), z.unknown(), { error: 'expected an object of input names to values' });

/** Reads `fd` to its end, refusing more than MAX_INPUT_FILE_BYTES (stdin may be a pipe of any length). */
function readBounded(fd: number, where: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.alloc(1024 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (err) {
      // A non-blocking stdin with nothing yet written: wait for the writer, as `cat` would.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw err;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_INPUT_FILE_BYTES)
      throw new UsageError(
        `--input-file ${where} holds more than ${LIMIT_TEXT} (${MAX_INPUT_FILE_BYTES} bytes); pass a reference (a path, a URL) to larger data`,
        { file: where },
      );
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The file's text, if it is a regular file of at most MAX_INPUT_FILE_BYTES; `-`: stdin's. */
function readInputText(path: string): string {
  if (path === '-') return readBounded(0, '- (stdin)');
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below like any non-regular file.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new UsageError(`--input-file ${path} is not a regular file; give a JSON or YAML file, or - to read stdin`, {
        file: path,
      });
    if (stat.size > MAX_INPUT_FILE_BYTES) {
      throw new UsageError(
        `--input-file ${path} has ${stat.size} bytes; an input file may have at most ${LIMIT_TEXT} (${MAX_INPUT_FILE_BYTES} bytes)`,
        { file: path, bytes: stat.size },
      );
    }
    return readBounded(fd, path);
  } finally {
    closeSync(fd);
  }
}

function inputObject(raw: unknown, flag: string, fix: string): Record<string, unknown> {
  const r = InputObject.safeParse(raw);
  // An array is an object to zod's record only by accident of JSON: refused as the wrong shape too.
  if (!r.success || Array.isArray(raw))
    throw new UsageError(
      `${flag} must hold an object of input names to values, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}; ${fix}`,
      { flag },
    );
  return r.data;
}

/** `--input-file <file>` (`-`: stdin): a JSON or YAML object of inputs. */
export function readInputFile(path: string): Record<string, unknown> {
  const where = path === '-' ? '- (stdin)' : path;
  let raw: unknown;
  try {
    const text = readInputText(path);
    // JSON read as JSON (a large one in a fraction of the YAML parser's time and memory), anything else as YAML.
    raw = jsonOrUndefined(text) ?? parse(text);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `cannot read --input-file ${where}: ${errorMessage(err)}; give a JSON or YAML object, e.g. {"n": 4} or n: 4`,
      { file: path },
    );
  }
  return inputObject(raw, `--input-file ${where}`, 'write it as e.g. {"n": 4} (JSON) or n: 4 (YAML)');
}

/** The text's value when it is a JSON object, else undefined (YAML, or a mistake the YAML parser then names). */
function jsonOrUndefined(text: string): unknown {
  if (!/^\s*\{/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `--input '<JSON object>'`: the inputs inline. */
export function parseInputFlag(text: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `--input is not JSON: ${errorMessage(err)}; pass the inputs as a JSON object in single quotes, e.g. --input '{"n": 4}' (or one flag each: --n 4)`,
      { input: text },
    );
  }
  return inputObject(raw, '--input', `pass e.g. --input '{"n": 4}'`);
}

/**
 * Every input a start was given, later ones winning: `--input-file`, then `--input`, then each `--<name> <value>` (so a
 * flag overrides one value of a file).
 */
export function gatherInputs(
  opts: { inputFile?: string; input?: string },
  flags: Record<string, string>,
): Record<string, unknown> {
  return {
    ...(opts.inputFile !== undefined ? readInputFile(opts.inputFile) : {}),
    ...(opts.input !== undefined ? parseInputFlag(opts.input) : {}),
    ...flags,
  };
}
