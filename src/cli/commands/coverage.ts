/** `ledgerflow paths <file>` and `ledgerflow test <file...>`: path coverage of definitions, and running it against the runtime. */
import { existsSync, readFileSync } from 'node:fs';
import pc from 'picocolors';
import { loadDefinitionFile } from '../../files/index.js';
import {
  expectationsFileFor,
  generatePaths,
  parseExpectations,
  runExpectation,
  runPath,
  type CoverageTally,
  type ExpectationResult,
  type GeneratedPath,
  type PathReport,
  type PathResult,
  type Tally,
} from '../../coverage/index.js';
import { RUNNABLE_TASK_TYPES, type Definition } from '../../definition/index.js';
import { formatDiagnostic, LedgerflowError, UnsupportedTaskTypeError } from '../../errors/index.js';
import type { PendingEvent } from '../../events/index.js';
import { json, type Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';
import { inert } from '../../terminal/index.js';
import { instanceKey } from '../../compiler/index.js';

/** The definition, warnings on stderr; a definition that cannot run at all is refused like `run` refuses it. */
function load(io: Io, file: string): Definition {
  const { definition, warnings } = loadDefinitionFile(file);
  for (const w of warnings) io.err(inert(formatDiagnostic(w)));
  const unsupported = definition.tasks.find((t) => !RUNNABLE_TASK_TYPES.includes(t.type));
  if (unsupported) throw new UnsupportedTaskTypeError(unsupported.id, unsupported.type);
  return definition;
}

/** One short token per event: `▶ scan_files`, `✓ validate_compliance {"compliance_status":"PASS"}`, `⏱ timeout scan_files #1`. */
function eventText(e: PendingEvent): string {
  const n = (attempt: number) => (attempt > 1 ? ` #${attempt}` : '');
  switch (e.type) {
    case 'task.started':
      return `▶ ${instanceKey(e.data)}${n(e.data.attempt)}`;
    case 'task.completed': {
      const shown = Object.fromEntries(
        Object.entries((e.data.output ?? {}) as Record<string, unknown>).filter(([, v]) => v !== null),
      );
      return `✓ ${instanceKey(e.data)}${n(e.data.attempt)}${Object.keys(shown).length ? ` ${JSON.stringify(shown)}` : ''}`;
    }
    case 'task.failed':
      return `✗ ${instanceKey(e.data)}${n(e.data.attempt)}`;
    case 'timer.fired':
      return e.data.timer === 'run_timeout'
        ? '⏱ run timeout'
        : `⏱ ${e.data.timer} ${instanceKey(e.data)}${n(e.data.attempt)}`;
    case 'approval.recorded':
      return `◇ ${e.data.task} ${e.data.decision} by ${e.data.by}`;
    default:
      return e.type;
  }
}

const ratio = (t: Tally) => (t.total === 0 ? '-' : `${t.covered}/${t.total}`);
const tallyText = (c: CoverageTally) =>
  `states ${ratio(c.states)} · transitions ${ratio(c.transitions)} · decision cases ${ratio(c.decisionCases)}`;
const full = (c: CoverageTally) => [c.states, c.transitions, c.decisionCases].every((t) => t.covered === t.total);

/** What `paths --json` prints: `{paths: [{name, events, outcome}], coverage, uncovered}`, plus input, per-task coverage and what was not counted. */
export function pathsJson(r: PathReport) {
  return {
    paths: r.paths.map((p: GeneratedPath) => ({ name: p.name, events: p.events, outcome: p.outcome, input: p.input })),
    coverage: r.coverage,
    uncovered: r.uncovered,
    tasks: r.tasks,
    excluded: r.excluded,
  };
}

export function pathsCmd(io: Io, file: string, opts: { json?: boolean }): number {
  const report = generatePaths(load(io, file));
  if (opts.json) {
    io.out(json(pathsJson(report)));
    return EXIT.ok;
  }
  io.out(`${pc.bold(report.workflowId)} (${file}): ${report.paths.length} paths`);
  report.paths.forEach((p, i) => {
    io.out(`${String(i + 1).padStart(3)}. ${p.name}  ${pc.dim(`→ ${p.outcome}, ${p.events.length} events`)}`);
    io.out(pc.dim(`     ${p.events.map(eventText).join(' · ')}`));
  });
  io.out(`coverage: ${tallyText(report.coverage)}`);
  const width = Math.max(4, ...Object.keys(report.tasks).map((t) => t.length));
  for (const [task, c] of Object.entries(report.tasks)) {
    io.out(`  ${full(c) ? pc.green('✓') : pc.yellow('·')} ${task.padEnd(width)}  ${tallyText(c)}`);
  }
  if (report.uncovered.length > 0) {
    io.out(`not covered (${report.uncovered.length}):`);
    for (const u of report.uncovered) io.out(`  ${uncoveredLine(u)}`);
  }
  io.out(
    pc.dim(
      `not counted: ${report.excluded.length} items the definition rules out (no timeout, no retries, nothing to skip a root task, cancellation); --json lists each with why`,
    ),
  );
  return EXIT.ok;
}

interface FileResult {
  file: string;
  workflowId?: string;
  paths?: PathResult[];
  expectations?: ExpectationResult[];
  coverage?: CoverageTally;
  uncovered?: PathReport['uncovered'];
  error?: ReturnType<LedgerflowError['toJSON']>;
}

async function testFile(io: Io, file: string, say: (t: string) => void): Promise<FileResult> {
  let def: Definition;
  let expectations: ReturnType<typeof parseExpectations> = [];
  let report: PathReport;
  try {
    def = load(io, file);
    const expFile = expectationsFileFor(file);
    if (existsSync(expFile)) expectations = parseExpectations(readFileSync(expFile, 'utf8'), def, expFile);
    report = generatePaths(def);
  } catch (err) {
    if (!(err instanceof LedgerflowError)) throw err;
    io.err(`${pc.red('✗')} ${file}: ${err.message}`);
    return { file, error: err.toJSON() };
  }
  say(
    `${pc.bold(file)} (${def.id}): ${report.paths.length} paths, ${expectations.length} expectations; coverage ${tallyText(report.coverage)}`,
  );
  const paths: PathResult[] = [];
  for (const p of report.paths) {
    const r = await runPath(def, p);
    paths.push(r);
    say(`  ${r.ok ? pc.green('✓') : pc.red('✗')} ${p.name}${r.ok ? '' : `\n      ${pc.red(r.failure ?? '')}`}`);
  }
  const results: ExpectationResult[] = [];
  for (const e of expectations) {
    const r = await runExpectation(def, e);
    results.push(r);
    say(
      `  ${r.ok ? pc.green('✓') : pc.red('✗')} expectation: ${e.name}${r.failures.map((f) => `\n      ${pc.red(f)}`).join('')}`,
    );
  }
  for (const u of report.uncovered) say(pc.dim(`  · not covered: ${uncoveredLine(u)}`));
  return {
    file,
    workflowId: def.id,
    paths,
    expectations: results,
    coverage: report.coverage,
    uncovered: report.uncovered,
  };
}

export async function testCmd(io: Io, files: string[], opts: { json?: boolean }): Promise<number> {
  const started = performance.now();
  // With --json, stdout carries only the final object.
  const say = opts.json ? () => {} : io.out;
  const results: FileResult[] = [];
  for (const file of files) results.push(await testFile(io, file, say));
  const all = results.flatMap((r) => [...(r.paths ?? []), ...(r.expectations ?? [])]);
  const failed = all.filter((r) => !r.ok).length;
  const invalid = results.filter((r) => r.error).length;
  const ms = Math.round(performance.now() - started);
  if (opts.json) io.out(json({ files: results, passed: all.length - failed, failed, invalid, ms }));
  else {
    const summary = `${results.length} definition${results.length === 1 ? '' : 's'}: ${results.reduce((n, r) => n + (r.paths?.length ?? 0), 0)} paths, ${results.reduce((n, r) => n + (r.expectations?.length ?? 0), 0)} expectations`;
    const verdict = failed > 0 ? pc.red(`${failed} failed`) : all.length > 0 ? pc.green('all passed') : 'nothing ran';
    io.out(
      `${summary} — ${verdict}${invalid ? pc.red(`, ${invalid} definition${invalid === 1 ? '' : 's'} could not be tested`) : ''} (${(ms / 1000).toFixed(1)}s)`,
    );
  }
  return invalid > 0 ? EXIT.usage : failed > 0 ? EXIT.failed : EXIT.ok;
}

/** An item not covered and why: its name once (a reason that is the validation warning names it already). */
function uncoveredLine(u: { kind: string; item: string; task?: string | null; reason: string }): string {
  const name = `${u.kind === 'decisionCase' ? 'decision case' : u.kind} ${u.item}${u.task ? ` of ${u.task}` : ' of the run'}`;
  return u.reason.startsWith(name) ? u.reason : `${name}: ${u.reason}`;
}
