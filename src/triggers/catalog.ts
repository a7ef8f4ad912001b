/**
 * Reading what triggers need from disk: every definition of a folder and every event type file of another. Defaults:
 * `definitions/` and `events/` in the working directory when they exist, else the copies bundled with the package.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { folderReader, loadDefinitionFile, packageRoot, type LoadedDefinition } from '../files/index.js';
import { positionIn } from '../definition/index.js';
import { DefinitionError, formatDiagnostic, UsageError } from '../errors/index.js';
import type { TriggerCatalog } from './admit.js';
import { parseEventTypeFile, type EventTypeSpec } from './schemas.js';

export interface LoadedCatalog extends TriggerCatalog {
  /** The definitions with their files and handler modules, in file-name order. */
  loaded: LoadedDefinition[];
  /** The files passed over, each with why (reported by the caller, e.g. on stderr). */
  skipped: SkippedDefinition[];
  definitionsDir: string;
  eventsDir: string;
}

/** The package's own copy, shipped beside dist/ in the installed package. */
function bundledDir(name: 'definitions' | 'events'): string {
  return join(packageRoot(), name);
}

/** What `serve` and `ui` say when no folder of the user's has schedules to fire. */
export const NO_SCHEDULES =
  'schedules: no ./definitions folder here and no --definitions, so no schedule fires (the bundled definitions are for the tour and `ledgerflow templates`; copy one with `ledgerflow new`)';

/**
 * The folder whose schedules fire (`serve`, `ui`): `given`, else `./definitions` when there is one; null
 * when neither, for the bundled definitions are for the tour and `templates`, not schedules in a user's
 * folder (their inputs name files of the clone).
 */
export function scheduledDir(given: string | undefined, cwd = process.cwd()): string | null {
  if (given !== undefined) return resolve(cwd, given);
  const local = resolve(cwd, 'definitions');
  return existsSync(local) && statSync(local).isDirectory() ? local : null;
}

export function defaultDir(name: 'definitions' | 'events', cwd = process.cwd()): string {
  const local = resolve(cwd, name);
  return existsSync(local) && statSync(local).isDirectory() ? local : bundledDir(name);
}

function yamlFiles(dir: string, what: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`${what} directory ${dir} does not exist`, { dir });
  // Regular files (or links to one) only: a device or FIFO named *.yaml is passed over, never read.
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile() === true);
}

/** Every event type file of `dir`; an absent default folder is simply empty. */
export function loadEventTypes(dir: string, opts: { required?: boolean } = {}): Map<string, EventTypeSpec> {
  const types = new Map<string, EventTypeSpec>();
  if (!opts.required && !existsSync(dir)) return types;
  for (const file of yamlFiles(dir, 'events')) {
    const name = basename(file).replace(/\.ya?ml$/, '');
    types.set(name, parseEventTypeFile(readFileSync(file, 'utf8'), file, name));
  }
  return types;
}

/**
 * A definition file the catalog passed over: one that does not load, or one whose workflow id another file of the
 * folder also defines. `reason` is one line, at the file's line:col.
 */
export interface SkippedDefinition {
  file: string;
  reason: string;
}

/** One line for a file that does not load: its first error at file:line:col, and how many more `validate` lists. */
function loadFailure(file: string, err: unknown): SkippedDefinition {
  if (err instanceof DefinitionError) {
    const errors = err.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0] ?? err.diagnostics[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: ledgerflow validate ${file} lists them)` : '';
    if (first) return { file, reason: `${formatDiagnostic(first)}${more}` };
  }
  if (err instanceof DefinitionError || err instanceof UsageError)
    return { file, reason: `${file}:1:1: error: ${err.message}` };
  throw err;
}

/**
 * Two files that define one workflow id would start it twice under one run id. The highest version is used (as a
 * SUB_WORKFLOW finds the highest), the others are skipped; files that tie at the highest are all skipped, since nothing
 * says which one is meant.
 */
function oneFilePerId(loaded: LoadedDefinition[]): { kept: LoadedDefinition[]; skipped: SkippedDefinition[] } {
  const byId = new Map<string, LoadedDefinition[]>();
  for (const l of loaded) (byId.get(l.definition.id) ?? byId.set(l.definition.id, []).get(l.definition.id)!).push(l);
  const dropped = new Map<LoadedDefinition, string>();
  for (const [id, group] of byId) {
    if (group.length < 2) continue;
    const top = Math.max(...group.map((l) => l.definition.version));
    const winners = group.filter((l) => l.definition.version === top);
    for (const l of group) {
      const others = group
        .filter((o) => o !== l)
        .map((o) => `${o.file} (v${o.definition.version})`)
        .join(', ');
      const why =
        winners.length > 1
          ? `workflow ${id} v${top} is also defined by ${others}; an event would start it twice under one run id, so none of them is used: give each file its own id, or bump version`
          : l === winners[0]
            ? null
            : `workflow ${id} v${l.definition.version} is also defined by ${others}; the triggers of v${top} (${winners[0]!.file}) are used`;
      if (why) dropped.set(l, why);
    }
  }
  return {
    kept: loaded.filter((l) => !dropped.has(l)),
    skipped: [...dropped].map(([l, why]) => {
      const at = positionIn(readFileSync(l.file, 'utf8'), ['workflow', 'id']);
      return { file: l.file, reason: `${l.file}:${at.line}:${at.col}: warning: ${why}` };
    }),
  };
}

/**
 * Every valid definition of the folder. A file that does not load, or that repeats another's workflow id, is skipped
 * and listed in `skipped` (the caller reports it): one broken file does not stop the others' triggers. Throws
 * UsageError only when the folder itself does not exist.
 */
export function loadTriggerCatalog(
  opts: { definitionsDir?: string; eventsDir?: string; cwd?: string } = {},
): LoadedCatalog {
  const definitionsDir = resolve(opts.definitionsDir ?? defaultDir('definitions', opts.cwd));
  const eventsDir = resolve(opts.eventsDir ?? defaultDir('events', opts.cwd));
  const valid: LoadedDefinition[] = [];
  const broken: SkippedDefinition[] = [];
  const folder = folderReader();
  for (const f of yamlFiles(definitionsDir, 'definitions')) {
    try {
      valid.push(loadDefinitionFile(f, { folder }));
    } catch (err) {
      broken.push(loadFailure(f, err));
    }
  }
  const { kept, skipped } = oneFilePerId(valid);
  return {
    loaded: kept,
    definitions: kept.map((l) => l.definition),
    skipped: [...broken, ...skipped].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    eventTypes: loadEventTypes(eventsDir, { required: opts.eventsDir !== undefined }),
    definitionsDir,
    eventsDir,
  };
}
