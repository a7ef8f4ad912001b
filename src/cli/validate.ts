/** `validate`, `compile` and `schema`: definitions checked, compiled to machines, and the language's JSON Schema. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { folderReader, loadDefinitionFile } from '../files/index.js';
import { machineJson } from '../compiler/index.js';
import { definitionJsonSchema } from '../definition/index.js';
import { DefinitionError, formatDiagnostic } from '../errors/index.js';
import { inert } from '../terminal/index.js';
import { EXIT } from './exit.js';
import { json, type Io } from './io.js';

export function validateCmd(io: Io, files: string[], opts: { strict?: boolean; json?: boolean }): number {
  const folder = folderReader();
  const results = files.map((file) => {
    try {
      const loaded = loadDefinitionFile(file, { strict: opts.strict ?? false, folder });
      return { file, valid: true, workflowId: loaded.definition.id, diagnostics: loaded.warnings };
    } catch (err) {
      if (err instanceof DefinitionError) return { file, valid: false, diagnostics: err.diagnostics };
      throw err;
    }
  });
  if (opts.json) io.out(json(results));
  else {
    for (const r of results) {
      for (const d of r.diagnostics) io.err(inert(formatDiagnostic(d)));
      io.out(`${r.valid ? '✓' : '✗'} ${r.file}${r.valid ? ` (${r.workflowId})` : ''}`);
    }
  }
  return results.every((r) => r.valid) ? EXIT.ok : EXIT.usage;
}

export function compileCmd(io: Io, files: string[], opts: { out: string; check?: boolean; json?: boolean }): number {
  const written: { file: string; machine: string; fresh: boolean }[] = [];
  const folder = folderReader();
  for (const file of files) {
    const { definition, warnings } = loadDefinitionFile(file, { folder });
    for (const w of warnings) io.err(inert(formatDiagnostic(w)));
    const target = join(opts.out, `${definition.id}.json`);
    const text = machineJson(definition);
    const fresh = existsSync(target) && readFileSync(target, 'utf8') === text;
    if (!opts.check && !fresh) {
      mkdirSync(opts.out, { recursive: true });
      writeFileSync(target, text);
    }
    written.push({ file, machine: target, fresh });
  }
  if (opts.json) io.out(json(written));
  else for (const w of written) io.out(opts.check ? `${w.fresh ? '✓ fresh' : '✗ stale'} ${w.machine}` : `${w.fresh ? 'unchanged' : 'wrote'} ${w.machine}`);
  if (opts.check && written.some((w) => !w.fresh)) {
    io.err('machines are stale against their definitions: run `ledgerflow compile <file...>` and commit the result');
    return EXIT.failed;
  }
  return EXIT.ok;
}

export function schemaCmd(io: Io): number {
  io.out(json(definitionJsonSchema()));
  return EXIT.ok;
}
