/**
 * Copying a template into a user's project (`ledgerflow new`): the plan (each file's target path, renamed with `--id`,
 * and whether it exists), its collisions, and the copy itself, validated in a staging directory first. The copy rules
 * are index.ts's top comment.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { loadDefinitionFile } from '../files/definitions.js';
import { packageRoot } from '../install/index.js';
import { parseDefinition, positionIn } from '../definition/index.js';
import { DefinitionError, UsageError } from '../errors/index.js';
import { entryFiles, ID, type FileKind, type TemplateEntry } from './catalog.js';

const OWNED: ReadonlySet<FileKind> = new Set(['definition', 'sub_workflow', 'expectations']);

interface CopyFile {
  kind: FileKind;
  from: string;
  to: string;
  text: string | Buffer;
  exists: 'no' | 'same' | 'different';
}
interface CopyPlan {
  template: string;
  workflowId: string;
  dir: string;
  files: CopyFile[];
  /** The template's command for the copy (its definition path renamed). */
  command: string;
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
 * What `new` would write, and where each file stands in the target: nothing is written. `newId` renames the workflow
 * (see the module comment).
 */
function planCopy(entry: TemplateEntry, opts: { dir: string; newId?: string; root?: string }): CopyPlan {
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
function collisions(plan: CopyPlan): CopyFile[] {
  return plan.files.filter((f) => f.exists === 'different' || (f.exists === 'same' && OWNED.has(f.kind)));
}

interface CopyResult {
  plan: CopyPlan;
  written: string[];
  kept: string[];
}

/**
 * Copies a template into `dir` (created if missing): refuses a collision (LF_TEMPLATE_COLLISION, exit 2) and a copy
 * that does not validate (DefinitionError) before writing anything.
 */
export function copyTemplate(entry: TemplateEntry, opts: { dir: string; newId?: string; root?: string }): CopyResult {
  const plan = planCopy(entry, opts);
  const clash = collisions(plan);
  if (clash.length > 0) {
    const name = (f: CopyFile) => relative(plan.dir, f.to) || f.to;
    const names = clash.map(name);
    // A file the copy owns (its definition, expectations) is avoided by renaming the workflow; a shared one (handlers,
    // samples, event types: the same path whatever --id) only by another --dir.
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
