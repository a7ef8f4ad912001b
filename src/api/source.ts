/**
 * Reading definition files and the folders they sit in: the I/O edge in
 * front of the pure parser. A child workflow is looked for among the
 * definitions of its parent's folder (children.ts, child-check.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_DEFINITION_BYTES, parseDefinition, tooLargeDiagnostic, type Definition } from '../definition/index.js';
import type { Diagnostic } from '../errors/index.js';

/**
 * A definition file's text, or, for a file over MAX_DEFINITION_BYTES, the
 * diagnostic saying so, known from its size: a 50 MB file is not read.
 * (parseDefinition refuses such text too: this spares reading it.)
 */
export function readDefinitionSource(file: string): { text: string } | { tooLarge: Diagnostic } {
  const size = statSync(file).size;
  if (size > MAX_DEFINITION_BYTES) return { tooLarge: { ...tooLargeDiagnostic(size), file } };
  return { text: readFileSync(file, 'utf8') };
}

/** Whether a `workflow:` value names a file rather than a workflow id. */
export function namesAFile(workflow: string): boolean {
  return workflow.includes('/') || /\.ya?ml$/.test(workflow);
}

/** The definition files of a folder, in name order. */
export function definitionFilesIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

/**
 * The definitions of a folder that parse (a broken or unrelated YAML file is
 * passed over: it is not the child's), with their files.
 */
export function definitionsIn(dir: string): { definition: Definition; file: string }[] {
  const out: { definition: Definition; file: string }[] = [];
  for (const file of definitionFilesIn(dir)) {
    let read: ReturnType<typeof readDefinitionSource>;
    try { read = readDefinitionSource(file); } catch { continue; }
    if ('tooLarge' in read) continue;
    const { definition, diagnostics } = parseDefinition(read.text, file);
    if (definition && !diagnostics.some((d) => d.severity === 'error')) out.push({ definition, file: resolve(file) });
  }
  return out;
}
