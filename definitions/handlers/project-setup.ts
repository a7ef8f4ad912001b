/**
 * Handlers of the project-setup workflow (definitions/project-setup.yaml,
 * project scaffolding). Confined: the project folder is one name
 * under the root, and every folder and file of the layout stays inside it
 * (absolute paths and `..` are refused). An existing project (a folder with
 * anything in it) is never written to. Deterministic: no clock.
 *
 *   check_target      <root>/<project>, refused when it holds anything
 *   load_layout       the layout's folders and files
 *   scaffold          makes the folders, writes the files ({{project}}, {{owner}})
 *   register_project  .3ox/PROJECT.yaml: owner and each file's sha256
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { NonRetryableError, parseYaml as parse, stringifyYaml as stringify } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'SETUP_BAD_INPUT');
  return v;
}

/** A path of the layout, inside the project: relative, no `..`. */
function inside(path: string): string {
  const n = normalize(path);
  if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`)) throw new NonRetryableError(`layout path ${JSON.stringify(path)} leaves the project folder`, 'SETUP_BAD_LAYOUT');
  return n;
}

const fill = (s: string, project: string, owner: string) => s.replaceAll('{{project}}', project).replaceAll('{{owner}}', owner);

export const handlers: Handlers = {
  async check_target(input) {
    const project = text(input, 'project');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(project)) throw new NonRetryableError(`project ${JSON.stringify(project)}: letters, digits, . _ - (it names a folder)`, 'SETUP_BAD_INPUT');
    const path = join(text(input, 'root'), project);
    const there = await readdir(path).catch(() => null);
    if (there !== null && there.length > 0) throw new NonRetryableError(`${path} already holds a project (${there.length} entries): nothing was written; choose another --project or remove it`, 'SETUP_PROJECT_EXISTS');
    return { path };
  },

  async load_layout(input) {
    const file = text(input, 'layout');
    let doc: { folders?: unknown; files?: unknown } | null;
    try {
      doc = parse(await readFile(file, 'utf8')) as typeof doc;
    } catch (err) {
      throw new NonRetryableError(`cannot read the layout ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'SETUP_NO_LAYOUT');
    }
    const folders = Array.isArray(doc?.folders) ? doc.folders.map((f) => inside(String(f))) : [];
    const files = doc?.files && typeof doc.files === 'object' ? Object.entries(doc.files as Record<string, unknown>).map(([path, body]) => ({ path: inside(path), body: String(body ?? '') })) : [];
    if (folders.length === 0 && files.length === 0) throw new NonRetryableError(`${file}: expected folders: [...] and/or files: { path: text }`, 'SETUP_BAD_LAYOUT');
    return { folders, files };
  },

  async scaffold(input) {
    const path = text(input, 'path');
    const project = text(input, 'project');
    const owner = text(input, 'owner');
    const folders = (input.folders ?? []) as string[];
    const files = (input.files ?? []) as { path: string; body: string }[];
    for (const f of folders) await mkdir(join(path, inside(f)), { recursive: true });
    const written: string[] = [];
    for (const f of files) {
      const target = join(path, inside(f.path));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, fill(f.body, project, owner));
      written.push(f.path);
    }
    return { written: written.sort() };
  },

  async register_project(input) {
    const path = text(input, 'path');
    const written = (input.written ?? []) as string[];
    const files: Record<string, string> = {};
    for (const f of written) files[f] = createHash('sha256').update(await readFile(join(path, inside(f)))).digest('hex');
    const manifest = join(path, '.3ox', 'PROJECT.yaml');
    await mkdir(dirname(manifest), { recursive: true });
    await writeFile(manifest, stringify({ project: text(input, 'project'), owner: text(input, 'owner'), files }));
    return { manifest, files: written.length };
  },
};

export default handlers;
