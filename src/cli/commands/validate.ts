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
  const hints = new Map<string, string[]>();
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
      hints.set(file, verifyHints(file, loaded.definition, loaded.warnings));
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
      for (const h of hints.get(r.file) ?? []) io.err(inert(h));
      io.out(`${r.valid ? '✓' : '✗'} ${r.file}${r.valid ? ` (${r.workflowId})` : ''}`);
    }
  }
  return results.every((r) => r.valid) ? EXIT.ok : EXIT.usage;
}

/**
 * Where validate sees a built-in property of `ledgerflow verify` fail (a task that can never run, a person or signal
 * waited for with no timeout), a hint that verify checks it on every path and shows the path.
 */
function verifyHints(file: string, def: Definition, warnings: Diagnostic[]): string[] {
  const out: string[] = [];
  if (warnings.some((w) => w.code === 'LF_TASK_NEVER_RUNS'))
    out.push(`hint: \`ledgerflow verify ${file}\` checks on every path that each task can run`);
  const waits = def.tasks.filter(
    (t) =>
      (t.type === 'HUMAN' || (t.type === 'WAIT' && t.event !== undefined)) &&
      t.timeoutMs === undefined &&
      !t.waitForever,
  );
  if (waits.length > 0)
    out.push(
      `hint: ${waits.map((t) => t.id).join(', ')} may wait forever (no timeout:, no wait_forever: true): run \`ledgerflow verify ${file}\` for the path that shows it`,
    );
  return out;
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
