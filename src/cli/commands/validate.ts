/** `validate`, `compile` and `schema`: definitions checked, compiled to machines, and the language's JSON Schema. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { folderReader, loadDefinitionFile } from '../../files/index.js';
import { machineJson } from '../../compiler/index.js';
import { definitionJsonSchema, type Definition } from '../../definition/index.js';
import { DefinitionError, formatDiagnostic, type Diagnostic } from '../../errors/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';

export async function validateCmd(
  io: Io,
  files: string[],
  opts: { strict?: boolean; json?: boolean },
): Promise<number> {
  const folder = folderReader();
  const results: { file: string; valid: boolean; workflowId?: string; diagnostics: Diagnostic[] }[] = [];
  for (const file of files) {
    try {
      const loaded = loadDefinitionFile(file, { strict: opts.strict ?? false, folder });
      // A TRANSFORM's jq is compiled here (jq loaded only for a definition that has one): a program that does not compile is an error at its jq:.
      const jq = hasTransforms(loaded.definition)
        ? await (await import('../../transform/index.js')).transformDiagnostics(
            loaded.definition,
            readFileSync(file, 'utf8'),
            file,
          )
        : [];
      results.push(
        jq.length > 0
          ? { file, valid: false, diagnostics: [...jq, ...loaded.warnings] }
          : { file, valid: true, workflowId: loaded.definition.id, diagnostics: loaded.warnings },
      );
    } catch (err) {
      if (err instanceof DefinitionError) results.push({ file, valid: false, diagnostics: err.diagnostics });
      else throw err;
    }
  }
  if (opts.json) io.out(json(results));
  else {
    for (const r of results) {
      for (const d of r.diagnostics) io.err(inert(formatDiagnostic(d)));
      io.out(`${r.valid ? '✓' : '✗'} ${r.file}${r.valid ? ` (${r.workflowId})` : ''}`);
    }
  }
  return results.every((r) => r.valid) ? EXIT.ok : EXIT.usage;
}

/** Whether a definition has a TRANSFORM task, whose jq validate compiles (src/transform/, loaded only then). */
const hasTransforms = (def: Definition): boolean => def.tasks.some((t) => t.type === 'TRANSFORM');

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
  else
    for (const w of written)
      io.out(
        opts.check
          ? `${w.fresh ? '✓ fresh' : '✗ stale'} ${w.machine}`
          : `${w.fresh ? 'unchanged' : 'wrote'} ${w.machine}`,
      );
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
