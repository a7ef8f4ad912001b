/** `ledgerflow import conductor <workflow.json|folder>`: reads the files, writes or prints what src/import made of them. */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { errorMessage, UsageError } from '../../errors/index.js';
import { importConductor, type ConductorFileImport } from '../../import/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';

export interface ImportOpts {
  out?: string;
  json?: boolean;
  asSimple?: string;
  integrations?: boolean;
}

/** The JSON files a source names: the file itself, or a folder's *.json in name order. */
function sourceFiles(source: string): string[] {
  if (!existsSync(source))
    throw new UsageError(`${source} does not exist: give a Conductor workflow JSON file or a folder of them`, {
      source,
    });
  if (!statSync(source).isDirectory()) return [source];
  const files = readdirSync(source)
    .filter((f) => f.toLowerCase().endsWith('.json'))
    .sort()
    .map((f) => join(source, f));
  if (files.length === 0)
    throw new UsageError(`${source} holds no .json file: give a Conductor workflow JSON file or a folder of them`, {
      source,
    });
  return files;
}

/**
 * The import's definitions checked as `validate` does beyond parsing: each TRANSFORM's `js:` must parse in QuickJS (and
 * its `jq:` compile), else the file is refused naming the task, as any validation error.
 */
async function checkPrograms(r: ConductorFileImport): Promise<ConductorFileImport> {
  if (!r.definitions.some((d) => /^\s+(js|jq): /m.test(d.yaml))) return r;
  const { parseDefinition } = await import('../../definition/index.js');
  const { transformDiagnostics } = await import('../../transform/index.js');
  const refusals: ConductorFileImport['refusals'] = [];
  for (const d of r.definitions) {
    const parsed = parseDefinition(d.yaml, `${d.workflowId}.yaml`);
    if (parsed.definition === null) continue;
    for (const diag of await transformDiagnostics(parsed.definition, d.yaml, `${d.workflowId}.yaml`)) {
      const task = parsed.definition.tasks[Number(diag.path?.[2])]?.id ?? '(workflow)';
      refusals.push({ task, type: 'TRANSFORM', why: `ledgerflow validation: ${diag.message} (${diag.code})` });
    }
  }
  return refusals.length > 0 ? { file: r.file, definitions: [], refusals } : r;
}

export async function importConductorCmd(io: Io, source: string, opts: ImportOpts): Promise<number> {
  const asSimple = (opts.asSimple ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const read: ConductorFileImport[] = sourceFiles(source).map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return {
        file,
        definitions: [],
        refusals: [{ task: '(file)', type: 'file', why: `cannot read it: ${errorMessage(err)}` }],
      };
    }
    return { ...importConductor(text, basename(file), { asSimple, integrations: opts.integrations !== false }), file };
  });
  const results: ConductorFileImport[] = [];
  for (const r of read) results.push(await checkPrograms(r));
  if (opts.out !== undefined) mkdirSync(opts.out, { recursive: true });
  const imported: Record<string, unknown>[] = [];
  const refused = results.filter((r) => r.refusals.length > 0).map((r) => ({ file: r.file, reasons: r.refusals }));
  const notes: string[] = [];
  for (const r of results) {
    for (const d of r.definitions) {
      const entry: Record<string, unknown> = { file: r.file, workflowId: d.workflowId, conductorName: d.conductorName };
      if (opts.out !== undefined) {
        const target = join(opts.out, `${d.workflowId}.yaml`);
        if (existsSync(target) && readFileSync(target, 'utf8') !== d.yaml) {
          refused.push({
            file: r.file,
            reasons: [
              { task: '(file)', type: 'file', why: `${target} exists and differs: remove it or choose another --out` },
            ],
          });
          continue;
        }
        writeFileSync(target, d.yaml);
        entry.written = target;
      } else if (opts.json) entry.yaml = d.yaml;
      imported.push(entry);
      notes.push(...d.notes.map((n) => `${d.workflowId}: ${n}`));
    }
  }
  if (opts.json) io.out(json({ imported, refused, notes }));
  else {
    const printed = results.flatMap((r) => r.definitions);
    if (opts.out === undefined) io.out(printed.map((d) => d.yaml).join('---\n'));
    for (const e of imported) io.err(`✓ ${e.file} → ${String(e.written ?? e.workflowId)}`);
    for (const r of refused) {
      io.err(`✗ ${r.file} not imported:`);
      for (const x of r.reasons) io.err(inert(`    ${x.task} (${x.type}): ${x.why}`));
    }
  }
  return refused.length === 0 ? EXIT.ok : EXIT.failed;
}
