/** Loading a definition file: read (source.ts), parsed, its children checked beside it (child-check.ts). */
import { dirname, relative, resolve } from 'node:path';
import { parseDefinition, type Definition } from '../definition/index.js';
import { checkChildren } from './child-check.js';
import { DefinitionError, UsageError, errorMessage, type Diagnostic } from '../errors/index.js';
import { folderById, namesAFile, readDefinitionSource, type FolderDefinitions } from './source.js';

export interface LoadedDefinition {
  definition: Definition;
  warnings: Diagnostic[];
  file: string;
  /** The file's text, as parsed (`deploy --nats` keeps it beside the definition for the dashboard's editor). */
  text?: string;
  /** Absolute path of the handler module the definition names, if any. */
  handlersPath?: string;
}

/**
 * When `name` is no file but a workflow id a definition of ./definitions declares (`run inventory-validation-v1`):
 * which file to give instead. '' otherwise.
 */
function declaredBy(name: string): string {
  if (namesAFile(name)) return '';
  const found = folderById(resolve('definitions'), name).filter((d) => d.definition.id === name);
  if (found.length === 0) return '';
  const files = found.map((d) => relative(process.cwd(), d.file));
  return `; ${files.join(' and ')} declare${files.length === 1 ? 's' : ''} workflow ${name}: run the file, e.g. \`ledgerflow run ${files[0]}\``;
}

/**
 * What `validate` says of a definition's text as if it were `file`: the parser's problems and, beside that file, its
 * children's (sub-workflows, failure workflow). `problems`: the diagnostics, warnings made errors when `strict`. The
 * dashboard's editor checks a draft with it, so the browser shows what `ledgerflow validate` would print.
 */
export function checkDefinitionText(
  text: string,
  file: string,
  opts: { strict?: boolean; folder?: FolderDefinitions } = {},
): { definition: Definition | null; diagnostics: Diagnostic[]; problems: Diagnostic[] } {
  const parsed = (opts.folder?.parse ?? parseDefinition)(text, file);
  const { definition } = parsed;
  // Sub-workflows and failure workflows are looked for beside the file: what can be known now is said now.
  const diagnostics = definition
    ? [...parsed.diagnostics, ...checkChildren(definition, text, file, opts.folder)]
    : parsed.diagnostics;
  const problems = opts.strict ? diagnostics.map((d) => ({ ...d, severity: 'error' as const })) : diagnostics;
  return { definition: definition ?? null, diagnostics, problems };
}

/**
 * Parses and validates a file; throws DefinitionError with every problem. `strict` turns warnings into errors; `folder`
 * reads the folders its children are looked for in (pass one folderReader() when loading many files of a folder).
 */
export function loadDefinitionFile(
  file: string,
  opts: { strict?: boolean; folder?: FolderDefinitions } = {},
): LoadedDefinition {
  let read: ReturnType<typeof readDefinitionSource>;
  try {
    read = readDefinitionSource(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new UsageError(`cannot read definition ${file}: ${errorMessage(err)}`, { file });
    throw new UsageError(`cannot read definition ${file}: no such file${declaredBy(file)}`, { file });
  }
  if ('refused' in read) throw new DefinitionError([read.refused], file);
  const { definition, diagnostics, problems } = checkDefinitionText(read.text, file, opts);
  if (!definition || problems.some((d) => d.severity === 'error')) throw new DefinitionError(problems, file);
  const loaded: LoadedDefinition = {
    definition,
    warnings: diagnostics.filter((d) => d.severity === 'warning'),
    file: resolve(file),
    text: read.text,
  };
  if (definition.handlers) loaded.handlersPath = resolve(dirname(file), definition.handlers);
  return loaded;
}
