/**
 * Reading what triggers need from disk: every definition of a folder and
 * every event type file of another. Defaults: `definitions/` and `events/` in
 * the working directory when they exist, else the copies bundled with the
 * package.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadDefinitionFile, packageRoot, type LoadedDefinition } from '../api/index.js';
import { UsageError } from '../errors/index.js';
import type { TriggerCatalog } from './admit.js';
import { parseEventTypeFile, type EventTypeSpec } from './schemas.js';

export interface LoadedCatalog extends TriggerCatalog {
  /** The definitions with their files and handler modules, in file-name order. */
  loaded: LoadedDefinition[];
  definitionsDir: string;
  eventsDir: string;
}

/** The package's own copy, shipped beside dist/ in the installed package. */
export function bundledDir(name: 'definitions' | 'events'): string {
  return join(packageRoot(), name);
}

export function defaultDir(name: 'definitions' | 'events', cwd = process.cwd()): string {
  const local = resolve(cwd, name);
  return existsSync(local) && statSync(local).isDirectory() ? local : bundledDir(name);
}

function yamlFiles(dir: string, what: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${what} directory ${dir} does not exist`, { dir });
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
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

/** Throws DefinitionError (with file:line:col) for the first definition that does not load: a broken folder is refused, not half used. */
export function loadTriggerCatalog(opts: { definitionsDir?: string; eventsDir?: string; cwd?: string } = {}): LoadedCatalog {
  const definitionsDir = resolve(opts.definitionsDir ?? defaultDir('definitions', opts.cwd));
  const eventsDir = resolve(opts.eventsDir ?? defaultDir('events', opts.cwd));
  const loaded = yamlFiles(definitionsDir, 'definitions').map((f) => loadDefinitionFile(f));
  const ids = new Map<string, string>();
  for (const l of loaded) {
    const other = ids.get(l.definition.id);
    if (other) throw new UsageError(`${l.file} and ${other} both define workflow ${l.definition.id}; an event would start it twice under one run id`, { workflowId: l.definition.id });
    ids.set(l.definition.id, l.file);
  }
  return {
    loaded,
    definitions: loaded.map((l) => l.definition),
    eventTypes: loadEventTypes(eventsDir, { required: opts.eventsDir !== undefined }),
    definitionsDir,
    eventsDir,
  };
}
