/** Reading definition files: the I/O edge in front of the pure parser. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDefinition, type Definition } from '../definition/index.js';
import { checkChildren } from './children.js';
import { DefinitionError, UsageError, type Diagnostic } from '../errors/index.js';

export interface LoadedDefinition {
  definition: Definition;
  warnings: Diagnostic[];
  file: string;
  /** Absolute path of the handler module the definition names, if any. */
  handlersPath?: string;
}

/** Parses and validates a file; throws DefinitionError with every problem. `strict` turns warnings into errors. */
export function loadDefinitionFile(file: string, opts: { strict?: boolean } = {}): LoadedDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read definition ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { file });
  }
  const parsed = parseDefinition(text, file);
  const { definition } = parsed;
  // Sub-workflows and failure workflows are looked for beside the file: what can be known now is said now.
  const diagnostics = definition ? [...parsed.diagnostics, ...checkChildren(definition, text, file)] : parsed.diagnostics;
  const problems = opts.strict ? diagnostics.map((d) => ({ ...d, severity: 'error' as const })) : diagnostics;
  if (!definition || problems.some((d) => d.severity === 'error')) throw new DefinitionError(problems, file);
  const loaded: LoadedDefinition = { definition, warnings: diagnostics.filter((d) => d.severity === 'warning'), file: resolve(file) };
  if (definition.handlers) loaded.handlersPath = resolve(dirname(file), definition.handlers);
  return loaded;
}
