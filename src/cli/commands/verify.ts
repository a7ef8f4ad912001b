/**
 * `ledgerflow verify <file...> [--json] [--save] [--max-states N] [--loop-bound N]`: the built-in and declared
 * properties of each definition, checked on every path (src/verify), each violation with its shortest counter-example.
 */
import pc from 'picocolors';
import { loadDefinitionFile } from '../../files/index.js';
import { positionIn, RUNNABLE_TASK_TYPES, type Definition } from '../../definition/index.js';
import { formatDiagnostic, UnsupportedTaskTypeError } from '../../errors/index.js';
import { inert } from '../../terminal/index.js';
import { propertyPlace, verifyDefinition, type PropertyResult, type VerifyReport } from '../../verify/index.js';
import { json, type Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';
import { integerFlag } from './cluster.js';
import { saveExpectations } from './verify-save.js';

interface VerifyOpts {
  json?: boolean;
  save?: boolean;
  maxStates?: string;
  loopBound?: string;
}

/** What was explored, in one line: every path, or how far and which bound cut it short. */
function scopeText(r: VerifyReport): string {
  const b = r.bound;
  const bounds = `loops up to ${b.loopIterations} iterations, MAPs over ${b.mapItems} items`;
  if (!r.bounded) return `${r.states} states, every path (${bounds})`;
  const which = b.reached.map((x) =>
    x === 'states' ? `${b.maxStates} states` : `${b.loopIterations} loop iterations`,
  );
  const upTo = b.reached.includes('states') ? `paths up to ${b.pathsUpTo} steps` : 'the paths explored';
  return `explored ${r.states} states, bound reached (${which.join(', ')}): results hold for ${upTo} (${bounds})`;
}

function resultLines(file: string, text: string | undefined, def: Definition, p: PropertyResult): string[] {
  const name = `${p.property}${p.task ? ` ${p.task}` : ''}`;
  if (p.holds) return [`  ${pc.green('✓')} ${name}: ${p.message}`];
  const place = propertyPlace(def, p);
  const at = text === undefined ? null : positionIn(text, place.path, place);
  return [
    `  ${pc.red('✗')} ${name}: ${p.message}${at ? pc.dim(`  (${file}:${at.line}:${at.col})`) : ''}`,
    ...(p.counterExample?.steps ?? []).map((s, i) => `      ${String(i + 1).padStart(2)}. ${s}`),
  ];
}

export function verifyCmd(io: Io, files: string[], opts: VerifyOpts): number {
  const maxStates = integerFlag('--max-states', opts.maxStates, 1);
  const loopBound = integerFlag('--loop-bound', opts.loopBound, 1);
  const out: (VerifyReport & { file: string; saved?: { file: string; names: string[] } })[] = [];
  for (const file of files) {
    const { definition: def, warnings, text } = loadDefinitionFile(file);
    for (const w of warnings) io.err(inert(formatDiagnostic(w)));
    const unsupported = def.tasks.find((t) => !RUNNABLE_TASK_TYPES.includes(t.type));
    if (unsupported) throw new UnsupportedTaskTypeError(unsupported.id, unsupported.type);
    const report = verifyDefinition(def, {
      ...(maxStates !== undefined ? { maxStates } : {}),
      ...(loopBound !== undefined ? { loopBound } : {}),
    });
    const broken = report.properties.filter((p) => !p.holds);
    const found = broken.flatMap((p) => (p.counterExample ? [p.counterExample.expectation] : []));
    const saved = opts.save && found.length > 0 ? saveExpectations(file, def, found) : undefined;
    out.push({ file, ...report, ...(saved ? { saved: { file: saved.file, names: saved.saved } } : {}) });
    if (opts.json) continue;
    io.out(`${pc.bold(report.workflowId)} (${file}): ${scopeText(report)}`);
    for (const p of report.properties) for (const l of resultLines(file, text, def, p)) io.out(inert(l));
    io.out(
      broken.length === 0
        ? pc.green(`all ${report.properties.length} properties hold`)
        : pc.red(`${broken.length} of ${report.properties.length} properties broken`),
    );
    if (saved) {
      io.out(
        saved.saved.length > 0
          ? `saved ${saved.saved.length} counter-example${saved.saved.length === 1 ? '' : 's'} to ${saved.file}: \`ledgerflow test ${file}\` runs them`
          : `${saved.file} has these counter-examples already`,
      );
    }
  }
  const holds = out.every((r) => r.properties.every((p) => p.holds));
  if (opts.json) io.out(json({ holds, files: out }));
  return holds ? EXIT.ok : EXIT.failed;
}
