/**
 * The template catalogue (`definitions/catalog/templates.yaml`): its zod schema with the entries' aliases and list keys
 * normalized, loading it from a package root, the files an entry names, and finding a template by id. Apart from the
 * copy (copy.ts), which reads the catalogue through these.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../install/index.js';
import { didYouMean } from '../definition/issues.js';
import { UsageError, errorMessage } from '../errors/index.js';

import { CATALOG_PATH } from './source.js';

/** A template or workflow id: letters, digits, _ and -. */
export const ID = /^[A-Za-z0-9_-]+$/;
/** A path relative to the package root, inside it, written with `/`. */
const RelPath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\\'),
    'a path relative to the package root, with / and no ..',
  );

const LIST_KEYS = ['sub_workflows', 'handlers', 'scripts', 'samples', 'events', 'expectations'] as const;
const ALIASES: Record<string, string> = {
  'sub-workflows': 'sub_workflows',
  subWorkflows: 'sub_workflows',
  subworkflows: 'sub_workflows',
};

/**
 * The entry as written, in its one canonical shape: the files may also be grouped under `files:` (definition,
 * sub_workflows, ...), `sub-workflows` may be spelled so, and a list of one may be a single path.
 */
function normalizeEntry(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const { files, ...rest } = raw as Record<string, unknown>;
  const merged: Record<string, unknown> = {
    ...(typeof files === 'object' && files !== null && !Array.isArray(files) ? files : {}),
    ...rest,
  };
  if (files !== undefined && (typeof files !== 'object' || files === null || Array.isArray(files)))
    merged.files = files;
  for (const [from, to] of Object.entries(ALIASES)) {
    if (from in merged && !(to in merged)) {
      merged[to] = merged[from];
      delete merged[from];
    }
  }
  for (const k of LIST_KEYS) if (typeof merged[k] === 'string') merged[k] = [merged[k]];
  return merged;
}

const TemplateEntryShape = z
  .object({
    id: z.string().regex(ID, 'letters, digits, _ and -'),
    title: z.string().min(1),
    description: z.string().min(1),
    /** Other names `ledgerflow new` takes for it (another name users know it by: multi-agent-coordination). */
    aliases: z.array(z.string().regex(ID, 'letters, digits, _ and -')).default([]),
    /** The workflow's definition file. */
    definition: RelPath,
    /** Definitions it runs as SUB_WORKFLOW / MAP workflow, or as its failure workflow. */
    sub_workflows: z.array(RelPath).default([]),
    handlers: z.array(RelPath).default([]),
    /** Scripts run by COMMAND tasks. */
    scripts: z.array(RelPath).default([]),
    /** Sample inputs: files or folders. */
    samples: z.array(RelPath).default([]),
    /** Event type files (events/<type>.yaml: schema and sample) of its triggers and EMITs. */
    events: z.array(RelPath).default([]),
    expectations: z.array(RelPath).default([]),
    /** File names its runs write into its sample folders (a receipt): left out of a copy, wherever a tour run left one. */
    outputs: z.array(z.string().regex(/^[^/\\]+$/, 'a file name, no folder')).default([]),
    /** The command that runs it, from the package root (or a copy's directory). */
    command: z.string().min(1),
  })
  .strict();
export const TemplateEntry = z.preprocess(normalizeEntry, TemplateEntryShape);
export type TemplateEntry = z.infer<typeof TemplateEntryShape>;

export const Catalog = z
  .object({ templates: z.array(TemplateEntry) })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.templates.forEach((t, i) => {
      if (seen.has(t.id))
        ctx.addIssue({ code: 'custom', path: ['templates', i, 'id'], message: `template ${t.id} is listed twice` });
      seen.add(t.id);
    });
    c.templates.forEach((t, i) =>
      t.aliases.forEach((a, j) => {
        if (seen.has(a))
          ctx.addIssue({
            code: 'custom',
            path: ['templates', i, 'aliases', j],
            message: `alias ${a} is already a template's name`,
          });
        seen.add(a);
      }),
    );
  });
export type Catalog = z.infer<typeof Catalog>;

/** The catalogue of a package root (default: this package's); throws UsageError naming the problem and its place. */
export function loadCatalog(root = packageRoot()): Catalog {
  const file = join(root, CATALOG_PATH);
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the template catalogue ${file}: ${errorMessage(err)}`, { file });
  }
  const parsed = Catalog.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new UsageError(`the template catalogue ${file} is invalid: ${problems.join('; ')}`, { file, problems });
  }
  return parsed.data;
}

/** Every file an entry names, folders expanded (sorted), relative to the root; a missing one is named. */
export function entryFiles(entry: TemplateEntry, root = packageRoot()): { kind: FileKind; path: string }[] {
  const out: { kind: FileKind; path: string }[] = [];
  const outputs = new Set(entry.outputs);
  const add = (kind: FileKind, path: string) => {
    if (kind === 'samples' && outputs.has(posix.basename(path))) return;
    const full = join(root, path);
    if (!existsSync(full))
      throw new UsageError(`template ${entry.id} lists ${path}, which is not in the package (${root})`, {
        template: entry.id,
        path,
      });
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) add(kind, posix.join(path, name));
    } else {
      out.push({ kind, path });
    }
  };
  add('definition', entry.definition);
  const lists = [
    ['sub_workflow', entry.sub_workflows],
    ['expectations', entry.expectations],
    ['handlers', entry.handlers],
    ['scripts', entry.scripts],
    ['samples', entry.samples],
    ['events', entry.events],
  ] as const;
  for (const [kind, paths] of lists) for (const p of paths) add(kind, p);
  return out;
}

export type FileKind = 'definition' | 'sub_workflow' | 'expectations' | 'handlers' | 'scripts' | 'samples' | 'events';

/**
 * The template of that id, or a UsageError listing the known ones with a did-you-mean. `_` and `-` are one: template
 * ids are the workflows' ids, which recorded runs keep (so they stay as they are: some first bundled ids have `_`,
 * later ones `-`), and nobody should have to remember which.
 */
export function findTemplate(catalog: Catalog, id: string): TemplateEntry {
  const loose = (s: string) => s.replaceAll('_', '-');
  const found =
    catalog.templates.find((t) => t.id === id) ??
    catalog.templates.find((t) => loose(t.id) === loose(id)) ??
    catalog.templates.find((t) => t.aliases.some((a) => loose(a) === loose(id)));
  if (found) return found;
  const ids = [...catalog.templates.map((t) => t.id), ...catalog.templates.flatMap((t) => t.aliases)];
  throw new UsageError(
    `unknown template "${id}"${didYouMean(id, ids)}; \`ledgerflow templates\` lists them: ${ids.join(', ')}`,
    { template: id, templates: ids },
  );
}
