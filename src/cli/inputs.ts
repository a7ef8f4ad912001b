/** `--<input-name> <value>` flags of `run`, checked against the definition's declared inputs. */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Definition } from '../definition/index.js';
import { UsageError } from '../errors/index.js';

export function parseInputFlags(tokens: string[], def: Definition): Record<string, unknown> {
  const declared = new Map(def.inputs.map((d) => [d.name, d]));
  const names = def.inputs.map((d) => `--${d.name}`).join(', ') || '(none)';
  const out: Record<string, unknown> = {};
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (!tok.startsWith('--')) {
      throw new UsageError(`unexpected argument "${tok}"; workflow inputs are given as --<name> <value> (declared: ${names})`, { argument: tok });
    }
    const eq = tok.indexOf('=');
    const name = eq >= 0 ? tok.slice(2, eq) : tok.slice(2);
    const decl = declared.get(name);
    if (!decl) {
      throw new UsageError(`unknown option --${name}: it is neither an option of \`run\` nor an input of workflow ${def.id} (declared inputs: ${names})`, { option: name });
    }
    if (eq >= 0) { out[name] = tok.slice(eq + 1); continue; }
    const next = tokens[i + 1];
    if (next === undefined || next.startsWith('--')) {
      if (decl.type !== 'boolean') throw new UsageError(`--${name} needs a value: --${name} <value>`, { option: name });
      out[name] = 'true';
    } else {
      out[name] = next;
      i++;
    }
  }
  return out;
}

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
    throw new UsageError(`cannot read --input-file ${path}: ${(err as Error).message}`, { file: path });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`--input-file ${path} must hold a JSON or YAML object of input names to values`, { file: path });
  }
  return raw as Record<string, unknown>;
}
