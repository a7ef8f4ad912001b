/**
 * The template library (docs/library.md, "The template library"): the
 * catalogue of bundled workflows (`definitions/catalog/templates.yaml`,
 * validated with zod) and the copy of one into a user's project
 * (`ledgerflow new`), from this package or from a folder, tarball or npm
 * package of templates in the same layout (source.ts). An edge: it reads and
 * writes files. The CLI is a thin layer over `loadCatalog`, `planCopy` and
 * `copyTemplate`.
 *
 * Copy rules:
 * - every file keeps its path relative to the package root (definitions/…,
 *   events/…), so the copy runs from the target directory as the original
 *   runs from a clone (`ledgerflow run definitions/x.yaml`, `ledgerflow emit`);
 * - with `--id X` the workflow is renamed: its definition file becomes
 *   `X.yaml` (its expectations file too), each sub-workflow S becomes
 *   `X-S` (file and id, and every reference to it), and the handler modules
 *   move to `handlers/X/` (the `handlers:` lines follow), so two copies of one
 *   template live side by side in one project;
 * - the files a template owns (definitions, expectations) must not exist;
 *   shared files (handlers, samples, events, scripts) may exist only with the
 *   same content (then they are left as they are); anything else is a
 *   collision: exit 2 and nothing written;
 * - the copy is validated in a staging directory before anything is written
 *   to the target.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadDefinitionFile } from '../files/definitions.js';
import { packageRoot } from '../install/index.js';
import { parseDefinition, positionIn } from '../definition/index.js';
import { didYouMean } from '../definition/issues.js';
import { DefinitionError, UsageError, errorMessage } from '../errors/index.js';

import { CATALOG_PATH } from './source.js';

export { CATALOG_PATH, isTemplateSource, openTemplateSource } from './source.js';

const ID = /^[A-Za-z0-9_-]+$/;
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
 * The entry as written, in its one canonical shape: the files may also be
 * grouped under `files:` (definition, sub_workflows, ...), `sub-workflows`
 * may be spelled so, and a list of one may be a single path.
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
const OWNED: ReadonlySet<FileKind> = new Set(['definition', 'sub_workflow', 'expectations']);

export interface CopyFile {
  kind: FileKind;
  from: string;
  to: string;
  text: string | Buffer;
  exists: 'no' | 'same' | 'different';
}
export interface CopyPlan {
  template: string;
  workflowId: string;
  dir: string;
  files: CopyFile[];
  /** The template's command for the copy (its definition path renamed). */
  command: string;
}

/**
 * The template of that id, or a UsageError listing the known ones with a did-you-mean. `_` and `-` are
 * one: template ids are the workflows' ids, which recorded runs keep (so they stay as they are: some
 * first bundled ids have `_`, later ones `-`), and nobody should have to remember which.
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

/** Replaces the YAML scalar at `path` (its value, found by line:col) with `value`, keeping the text around it as written. */
function replaceScalar(text: string, path: (string | number)[], value: string): string {
  const { line, col } = positionIn(text, path);
  const lines = text.split('\n');
  const l = lines[line - 1];
  if (l === undefined) throw new Error(`no line ${line}`);
  const rest = l.slice(col - 1);
  const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#,}\]]+)/.exec(rest);
  if (!m) throw new Error(`no scalar at ${line}:${col}`);
  const quote = m[1]!.startsWith('"') ? '"' : m[1]!.startsWith("'") ? "'" : '';
  lines[line - 1] = l.slice(0, col - 1) + quote + value + quote + rest.slice(m[1]!.length);
  return lines.join('\n');
}

interface Rename {
  workflowId: string;
  subIds: Map<string, string>;
  handlersDir?: string;
}

/** A definition's text with its id, its sub-workflow references and its handlers line renamed. */
function rewriteDefinition(
  text: string,
  file: string,
  newId: string | undefined,
  rename: Rename,
  newHandlers: string | undefined,
): string {
  const { definition } = parseDefinition(text, file);
  if (!definition) throw new UsageError(`template file ${file} does not parse as a workflow`, { file });
  let out = text;
  // Edit from the bottom up is not needed: each edit keeps line numbers (one line each), and positions are looked up afresh.
  definition.tasks.forEach((t) => {
    if ((t.type === 'SUB_WORKFLOW' || t.type === 'MAP') && t.workflow && rename.subIds.has(t.workflow)) {
      out = replaceScalar(out, ['workflow', 'tasks', t.index, 'workflow'], rename.subIds.get(t.workflow)!);
    }
  });
  const fw = definition.failureWorkflow;
  if (fw?.id && fw.steps.length === 0 && rename.subIds.has(fw.id))
    out = replaceScalar(out, ['workflow', 'failure_workflow', 'id'], rename.subIds.get(fw.id)!);
  if (newHandlers !== undefined && definition.handlers) out = replaceScalar(out, ['workflow', 'handlers'], newHandlers);
  if (newId !== undefined) out = replaceScalar(out, ['workflow', 'id'], newId);
  return out;
}

const sameContent = (file: string, text: string | Buffer) => {
  try {
    return lstatSync(file).isFile() && readFileSync(file).equals(Buffer.isBuffer(text) ? text : Buffer.from(text));
  } catch {
    return false;
  }
};

/**
 * What `new` would write, and where each file stands in the target: nothing
 * is written. `newId` renames the workflow (see the module comment).
 */
export function planCopy(entry: TemplateEntry, opts: { dir: string; newId?: string; root?: string }): CopyPlan {
  const root = opts.root ?? packageRoot();
  const dir = resolve(opts.dir);
  if (opts.newId !== undefined && !ID.test(opts.newId)) {
    throw new UsageError(`--id ${JSON.stringify(opts.newId)} is not a workflow id: use letters, digits, _ and -`, {
      id: opts.newId,
    });
  }
  const files = entryFiles(entry, root);
  const mainText = readFileSync(join(root, entry.definition), 'utf8');
  const parsedMain = parseDefinition(mainText, entry.definition);
  const main = parsedMain.definition;
  if (!main) {
    const problems = parsedMain.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => `${entry.definition}:${d.line}:${d.col}: ${d.message}`);
    throw new UsageError(
      `template ${entry.id} does not validate (nothing was written): ${problems.join('; ')}`,
      { template: entry.id, problems },
      'LF_DEFINITION_INVALID',
    );
  }
  const rename: Rename = { workflowId: opts.newId ?? main.id, subIds: new Map() };
  const renaming = opts.newId !== undefined && opts.newId !== main.id;
  const pathMap = new Map<string, string>();
  if (renaming) {
    const newId = opts.newId!;
    const defDir = posix.dirname(entry.definition);
    const stem = (p: string) => posix.basename(p).replace(/\.ya?ml$/, '');
    pathMap.set(entry.definition, posix.join(defDir, `${newId}.yaml`));
    for (const sub of entry.sub_workflows) {
      const def = parseDefinition(readFileSync(join(root, sub), 'utf8'), sub).definition;
      if (!def) throw new UsageError(`template ${entry.id}: ${sub} does not parse`, { template: entry.id });
      rename.subIds.set(def.id, `${newId}-${def.id}`);
      pathMap.set(sub, posix.join(posix.dirname(sub), `${newId}-${stem(sub)}.yaml`));
    }
    // An expectations file belongs to the definition of its name (expectations/<file name>).
    for (const exp of files.filter((f) => f.kind === 'expectations')) {
      const owner = [...pathMap.keys()].find((p) => posix.basename(p) === posix.basename(exp.path));
      if (owner) pathMap.set(exp.path, posix.join(posix.dirname(exp.path), posix.basename(pathMap.get(owner)!)));
    }
    for (const h of files.filter((f) => f.kind === 'handlers')) {
      pathMap.set(h.path, posix.join(posix.dirname(h.path), newId, posix.basename(h.path)));
    }
  }
  const target = (p: string) => pathMap.get(p) ?? p;
  // The handlers line of each definition, when its module moved: relative to the definition's new place.
  const handlersLine = (defPath: string, text: string): string | undefined => {
    const def = parseDefinition(text, defPath).definition;
    if (!renaming || !def?.handlers) return undefined;
    const module = posix.normalize(posix.join(posix.dirname(defPath), def.handlers));
    if (!pathMap.has(module)) return undefined;
    const rel = posix.relative(posix.dirname(target(defPath)), pathMap.get(module)!);
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const out: CopyFile[] = files.map(({ kind, path }) => {
    let text: string | Buffer = readFileSync(join(root, path));
    if (kind === 'definition' || kind === 'sub_workflow') {
      const source = text.toString('utf8');
      const newId =
        kind === 'definition'
          ? renaming
            ? opts.newId
            : undefined
          : rename.subIds.get(parseDefinition(source, path).definition?.id ?? '');
      text = renaming ? rewriteDefinition(source, path, newId, rename, handlersLine(path, source)) : source;
    }
    const to = join(dir, ...target(path).split('/'));
    const exists = !existsSync(to) ? 'no' : sameContent(to, text) ? 'same' : 'different';
    return { kind, from: path, to, text, exists };
  });
  const command = entry.command.split(entry.definition).join(target(entry.definition));
  return { template: entry.id, workflowId: rename.workflowId, dir, files: out, command };
}

/** The files that would be overwritten, or that a template owns and that exist already. */
export function collisions(plan: CopyPlan): CopyFile[] {
  return plan.files.filter((f) => f.exists === 'different' || (f.exists === 'same' && OWNED.has(f.kind)));
}

export interface CopyResult {
  plan: CopyPlan;
  written: string[];
  kept: string[];
}

/**
 * Copies a template into `dir` (created if missing): refuses a collision
 * (LF_TEMPLATE_COLLISION, exit 2) and a copy that does not validate
 * (DefinitionError) before writing anything.
 */
export function copyTemplate(entry: TemplateEntry, opts: { dir: string; newId?: string; root?: string }): CopyResult {
  const plan = planCopy(entry, opts);
  const clash = collisions(plan);
  if (clash.length > 0) {
    const name = (f: CopyFile) => relative(plan.dir, f.to) || f.to;
    const names = clash.map(name);
    // A file the copy owns (its definition, expectations) is avoided by renaming the workflow; a shared one
    // (handlers, samples, event types: the same path whatever --id) only by another --dir.
    const owned = clash.filter((f) => OWNED.has(f.kind)).map(name);
    const shared = clash.filter((f) => !OWNED.has(f.kind)).map(name);
    const them = shared.length === 1 ? 'it' : 'them';
    const ownedText =
      owned.length > 0
        ? `${owned.length === 1 ? 'this file exists' : 'these files exist'} in ${plan.dir}: ${owned.join(', ')}; `
        : '';
    const sharedText =
      shared.length > 0
        ? `${shared.join(', ')} ${shared.length === 1 ? 'exists' : 'exist'} with other content; every copy of the template shares ${them} (kept only when identical): move ${them} away, or choose another --dir; `
        : '';
    throw new UsageError(
      `ledgerflow new ${entry.id}: ${ownedText}${sharedText}nothing was written${owned.length > 0 ? '. Choose another --dir, or another --id to rename the workflow' : ''}`,
      { template: entry.id, files: names },
      'LF_TEMPLATE_COLLISION',
    );
  }
  const fresh = plan.files.filter((f) => f.exists === 'no');
  // Validate the copy as it will be (its sub-workflows beside it) in a staging directory first.
  const staging = mkdtempSync(join(tmpdir(), 'lf-new-'));
  try {
    for (const f of plan.files) {
      const to = join(staging, relative(plan.dir, f.to));
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, f.text);
    }
    for (const f of plan.files.filter((x) => x.kind === 'definition' || x.kind === 'sub_workflow')) {
      const loaded = loadDefinitionFile(join(staging, relative(plan.dir, f.to)));
      if (loaded.handlersPath && !existsSync(loaded.handlersPath)) {
        throw new UsageError(
          `the copy of ${f.from} names handlers ${loaded.definition.handlers}, which the copy lacks`,
          { file: f.from },
        );
      }
    }
  } catch (err) {
    if (err instanceof DefinitionError)
      throw new UsageError(
        `the copy of template ${entry.id} does not validate (nothing was written): ${err.message}`,
        { template: entry.id },
        'LF_DEFINITION_INVALID',
      );
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  for (const f of fresh) {
    mkdirSync(dirname(f.to), { recursive: true });
    writeFileSync(f.to, f.text, { flag: 'wx' });
  }
  return {
    plan,
    written: fresh.map((f) => f.to),
    kept: plan.files.filter((f) => f.exists === 'same').map((f) => f.to),
  };
}
