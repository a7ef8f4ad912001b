/** `ledgerflow templates` and `ledgerflow new`: thin over src/templates. */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../files/index.js';
import { UsageError } from '../../errors/index.js';
import {
  type Catalog,
  copyTemplate,
  findTemplate,
  isTemplateSource,
  loadCatalog,
  openTemplateSource,
  type TemplateEntry,
} from '../../templates/index.js';
import { json, type Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';

/** A template source (`--from`, or what `new` was given) opened for the time of `use`, then closed. */
function withSource<T>(spec: string, use: (catalog: Catalog, root: string, template: string | undefined) => T): T {
  const source = openTemplateSource(spec);
  try {
    return use(loadCatalog(source.root), source.root, source.template);
  } finally {
    source.close();
  }
}

export function templatesCmd(io: Io, opts: { json?: boolean; from?: string }): number {
  if (opts.from !== undefined) return withSource(opts.from, (catalog) => listTemplates(io, catalog, opts, opts.from!));
  return listTemplates(io, loadCatalog(), opts);
}

function listTemplates(io: Io, catalog: Catalog, opts: { json?: boolean }, from?: string): number {
  const { templates } = catalog;
  if (opts.json) {
    io.out(json(templates));
    return EXIT.ok;
  }
  const width = Math.max(...templates.map((t) => t.id.length));
  for (const t of templates) {
    io.out(`${t.id.padEnd(width)}  ${t.title}${t.aliases.length > 0 ? ` (also: ${t.aliases.join(', ')})` : ''}`);
    io.out(`${' '.repeat(width)}  ${t.description}`);
    io.out(`${' '.repeat(width)}  $ ${t.command}`);
  }
  const how = from === undefined ? '<template>' : `${from}/<template>`;
  io.out(
    `\n${templates.length} templates; copy one into your project with: ledgerflow new ${how} [--id my-id] [--dir d]`,
  );
  return EXIT.ok;
}

/** The one template of a source's catalogue that `picked` names, or its only one. */
function pick(catalog: Catalog, picked: string | undefined, spec: string): TemplateEntry {
  if (picked !== undefined) return findTemplate(catalog, picked);
  if (catalog.templates.length === 1) return catalog.templates[0]!;
  const ids = catalog.templates.map((t) => t.id);
  throw new UsageError(`${spec} holds ${ids.length} templates: name one as ${spec}/<template> (${ids.join(', ')})`, {
    source: spec,
    templates: ids,
  });
}

export function newCmd(io: Io, template: string, opts: { id?: string; dir?: string; json?: boolean }): number {
  const copy = (entry: TemplateEntry, root?: string) =>
    copyTemplate(entry, {
      dir: opts.dir ?? '.',
      ...(opts.id !== undefined ? { newId: opts.id } : {}),
      ...(root !== undefined ? { root } : {}),
    });
  const bundled = loadCatalog();
  // A bundled template's id first; a path, a tarball or a package otherwise (validated before anything is copied).
  const fromSource =
    isTemplateSource(template) &&
    !(/^[\w-]+$/.test(template) && bundled.templates.some((t) => t.id === template || t.aliases.includes(template)));
  const { plan, written, kept } = fromSource
    ? withSource(template, (catalog, root, picked) =>
        copy(pick(catalog, picked, template.slice(0, picked === undefined ? undefined : -(picked.length + 1))), root),
      )
    : copy(findTemplate(bundled, template));
  const command = plan.command.replace(/^ledgerflow /, `${ledgerflowCommand(plan.dir)} `);
  if (opts.json) {
    io.out(json({ template: plan.template, workflowId: plan.workflowId, dir: plan.dir, written, kept, command }));
    return EXIT.ok;
  }
  io.out(`template ${plan.template} copied into ${plan.dir} as workflow ${plan.workflowId}:`);
  for (const f of written) io.out(`  + ${relative(plan.dir, f)}`);
  for (const f of kept) io.out(`  = ${relative(plan.dir, f)} (already there, the same)`);
  io.out(`run it from ${plan.dir}:\n  ${command}`);
  return EXIT.ok;
}

const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const real = (file: string) => {
  try {
    return realpathSync(file);
  } catch {
    return null;
  }
};
const shellWord = (w: string) => (/^[\w./:@%+=,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/**
 * How to start the ledgerflow running now from `dir`, as the user can type it there: `npx ledgerflow` where the project
 * has it installed (npx runs node_modules/.bin/ledgerflow; without one it would reach for the registry), `ledgerflow`
 * where the one on PATH is this one (a global install, npm link), else `node <this package's bin>` (a clone, or
 * anything else).
 */
export function ledgerflowCommand(dir: string): string {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (executable(join(d, 'node_modules', '.bin', 'ledgerflow'))) return 'npx ledgerflow';
    if (dirname(d) === d) break;
  }
  const bin = join(packageRoot(), 'bin', 'ledgerflow.js');
  const self = real(bin);
  for (const d of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const found = join(d, 'ledgerflow');
    if (executable(found) && real(found) === self) return 'ledgerflow';
  }
  return `node ${shellWord(bin)}`;
}
