/** `ledgerflow templates` and `ledgerflow new`: thin over src/templates. */
import { relative } from 'node:path';
import { copyTemplate, findTemplate, loadCatalog } from '../templates/index.js';
import type { Io } from './commands.js';
import { EXIT } from './exit.js';

export function templatesCmd(io: Io, opts: { json?: boolean }): number {
  const { templates } = loadCatalog();
  if (opts.json) {
    io.out(JSON.stringify(templates, null, 2));
    return EXIT.ok;
  }
  const width = Math.max(...templates.map((t) => t.id.length));
  for (const t of templates) {
    io.out(`${t.id.padEnd(width)}  ${t.title}`);
    io.out(`${' '.repeat(width)}  ${t.description}`);
    io.out(`${' '.repeat(width)}  $ ${t.command}`);
  }
  io.out(`\n${templates.length} templates; copy one into your project with: ledgerflow new <template> [--id my-id] [--dir d]`);
  return EXIT.ok;
}

export function newCmd(io: Io, template: string, opts: { id?: string; dir?: string; json?: boolean }): number {
  const entry = findTemplate(loadCatalog(), template);
  const { plan, written, kept } = copyTemplate(entry, { dir: opts.dir ?? '.', ...(opts.id !== undefined ? { newId: opts.id } : {}) });
  if (opts.json) {
    io.out(JSON.stringify({ template: plan.template, workflowId: plan.workflowId, dir: plan.dir, written, kept, command: plan.command }, null, 2));
    return EXIT.ok;
  }
  io.out(`template ${plan.template} copied into ${plan.dir} as workflow ${plan.workflowId}:`);
  for (const f of written) io.out(`  + ${relative(plan.dir, f)}`);
  for (const f of kept) io.out(`  = ${relative(plan.dir, f)} (already there, the same)`);
  io.out(`run it from ${plan.dir}:\n  ${plan.command.replace(/^ledgerflow /, 'npx ledgerflow ')}`);
  return EXIT.ok;
}
