/**
 * Reading definition files and the folders they sit in: the I/O edge in front of the pure parser. A child workflow is
 * looked for among the definitions of its parent's folder (children.ts, child-check.ts).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_DEFINITION_BYTES, parseDefinition, tooLargeDiagnostic, type Definition } from '../definition/index.js';
import type { Diagnostic } from '../errors/index.js';

/**
 * A definition file's text, or the diagnostic refusing it: over MAX_DEFINITION_BYTES (a 50 MB file is not read: at most
 * one byte past the limit is, whatever its size says, so a file that grows, a device or a FIFO named by a symlink
 * cannot feed it gigabytes), or not a regular file at all.
 */
export function readDefinitionSource(file: string): { text: string } | { refused: Diagnostic } {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below like any non-regular file.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      return {
        refused: {
          severity: 'error',
          code: 'LF_DEFINITION_NOT_A_FILE',
          message: `${file} is not a regular file (a device, a FIFO or a folder); a definition is a YAML file`,
          path: [],
          line: 1,
          col: 1,
          file,
        },
      };
    if (st.size > MAX_DEFINITION_BYTES) return { refused: { ...tooLargeDiagnostic(st.size), file } };
    // Not zeroed: only the bytes read are kept (a zeroed MiB per file read was most of reading a folder).
    const buf = Buffer.allocUnsafe(MAX_DEFINITION_BYTES + 1);
    let got = 0;
    for (let n = -1; n !== 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, null);
    if (got > MAX_DEFINITION_BYTES) return { refused: { ...tooLargeDiagnostic(got, true), file } };
    return { text: buf.subarray(0, got).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

/** Whether a `workflow:` value names a file rather than a workflow id. */
export function namesAFile(workflow: string): boolean {
  return workflow.includes('/') || /\.ya?ml$/.test(workflow);
}

/** The definition files of a folder, in name order: regular files (or links to one) named *.yaml or *.yml; a device or FIFO so named is passed over. */
export function definitionFilesIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile() === true);
}

type Parse = (text: string, file: string) => ReturnType<typeof parseDefinition>;

/**
 * A folder's definitions as definitionsIn gives them; with `id`, the ones that may declare it suffice (others may be
 * left out: callers pick by id). `parse`, when given, is the parser they were read with, which remembers what it
 * parsed: a command loading a file of that folder parses it once.
 */
export type FolderDefinitions = ((dir: string, id?: string) => { definition: Definition; file: string }[]) & {
  parse?: Parse;
};

/** The folder read anew for each lookup, parsing only the files that may declare the id asked for. */
export const folderById: FolderDefinitions = (dir, id) => definitionsIn(dir, parseDefinition, id);

/**
 * definitionsIn, each folder read once for as long as the returned function is kept: for a command that loads every
 * file of a folder (the trigger catalogue, `validate definitions/*.yaml`, `deploy`), whose each file's children are
 * looked for among the same siblings. Read anew per command, so an edited file is seen by the next one.
 */
export function folderReader(): FolderDefinitions {
  // Each file's text parsed once: the catalogue loads every file, and the first file naming a child reads the whole
  // folder again to look for it (the bundled catalogue's 16 files were parsed twice by every `emit`).
  const parsed = new Map<string, ReturnType<typeof parseDefinition>>();
  const parse: Parse = (text, file) => {
    const key = `${resolve(file)}\n${text}`;
    let found = parsed.get(key);
    if (!found) parsed.set(key, (found = parseDefinition(text, file)));
    return found;
  };
  const read = new Map<string, { definition: Definition; file: string }[]>();
  const reader = (dir: string) => {
    const key = resolve(dir);
    let found = read.get(key);
    if (!found) read.set(key, (found = definitionsIn(key, parse)));
    return found;
  };
  return Object.assign(reader, { parse });
}

/**
 * Whether a definition's text may declare workflow `id`: it holds the id, or a backslash (a YAML escape could spell the
 * id otherwise). Parsing and checking a definition is what finding one by id costs: with this, a lookup in a folder of
 * twenty parses the one or two that may hold it (`start` in ledgerflow's own folder: 2.0 s of CPU → 0.7 s).
 */
export function mayDeclare(text: string, id: string): boolean {
  return text.includes(id) || text.includes('\\');
}

/**
 * The definitions of a folder that parse (a broken or unrelated YAML file is passed over: it is not the child's), with
 * their files; with `id`, only those whose text may declare it (mayDeclare): the others are not parsed.
 */
export function definitionsIn(
  dir: string,
  parse: Parse = parseDefinition,
  id?: string,
): { definition: Definition; file: string }[] {
  const out: { definition: Definition; file: string }[] = [];
  for (const file of definitionFilesIn(dir)) {
    let read: ReturnType<typeof readDefinitionSource>;
    try {
      read = readDefinitionSource(file);
    } catch {
      continue;
    }
    if ('refused' in read) continue;
    if (id !== undefined && !mayDeclare(read.text, id)) continue;
    const { definition, diagnostics } = parse(read.text, file);
    if (definition && !diagnostics.some((d) => d.severity === 'error')) out.push({ definition, file: resolve(file) });
  }
  return out;
}
