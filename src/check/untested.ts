/**
 * What is newly untested: the paths of the new version (coverage/paths.ts) the expectations beside its file
 * (`expectations/<file name>`, what `ledgerflow test` runs) do not reach. Each expectation is run against the real
 * runtime and the coverage items its run covers are read off its log (coverage/log-items.ts), in the keys paths use.
 *
 * A path is tested when the expectations together cover every item it is the first path to cover (its reason to be a
 * path: the happy path owns the states every run passes, "review rejected" the rejection). It is newly untested when
 * an item it leaves uncovered belongs to a task the new version adds or changes, or was covered by the old version's
 * own expectations (coverage lost); with no old version, every untested path is. Only those are findings (warnings):
 * the rest were untested before and are counted in the summary.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  catalogItems,
  expectationsFileFor,
  itemKey,
  generatePaths,
  itemsOfLog,
  parseExpectations,
  runExpectation,
} from '../coverage/index.js';
import { compile } from '../compiler/index.js';
import { UsageError } from '../errors/index.js';
import type { CheckedDefinition } from './diff.js';
import type { Finding } from './findings.js';
import { taskLocation } from './locate.js';

export interface UntestedSummary {
  paths: number;
  tested: number;
  /** Untested, whether or not newly. */
  untested: number;
  newlyUntested: number;
  expectations: number;
  /** The expectations file read (null when there is none beside the definition). */
  expectationsFile: string | null;
}

export interface UntestedResult {
  findings: Finding[];
  summary: UntestedSummary;
  /** Each path, ok unless it is newly untested (JUnit's testcases). */
  judged: { name: string; ok: boolean }[];
}

/** The items the expectations beside `def`'s file cover when run, or the finding that says they cannot be read. */
async function expectationItems(
  def: CheckedDefinition,
): Promise<{ covered: Set<string>; count: number; file: string | null } | { invalid: Finding }> {
  const file = expectationsFileFor(def.file);
  if (!existsSync(file)) return { covered: new Set(), count: 0, file: null };
  let expectations: ReturnType<typeof parseExpectations>;
  try {
    expectations = parseExpectations(readFileSync(file, 'utf8'), def.definition, file);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The first problem's place, as parseExpectations names it (file:line:col).
    const at = /:(\d+):(\d+): /.exec(err.message);
    return {
      invalid: {
        section: 'untested',
        rule: 'expectations-invalid',
        level: 'error',
        message: `${err.message.split('\n').slice(0, 2).join(' ').trim()}: fix the expectations for this version (\`ledgerflow test ${def.file}\`)`,
        location: { file, line: at ? Number(at[1]) : 1, col: at ? Number(at[2]) : 1 },
      },
    };
  }
  const covered = new Set<string>();
  for (const e of expectations)
    await runExpectation(def.definition, e, (events) => {
      for (const k of itemsOfLog(def.definition, events)) covered.add(k);
    });
  return { covered, count: expectations.length, file };
}

/** The tasks of `after` that `before` does not have, or has otherwise. */
function changedTasks(before: CheckedDefinition, after: CheckedDefinition): Set<string> {
  const old = new Map(before.definition.tasks.map((t) => [t.id, JSON.stringify(t)]));
  return new Set(after.definition.tasks.filter((t) => old.get(t.id) !== JSON.stringify(t)).map((t) => t.id));
}

const taskOfKey = (key: string) => key.split('|')[1] || null;
function itemText(key: string): string {
  const [kind, task, ...item] = key.split('|');
  return `${kind === 'decisionCase' ? 'decision case' : kind} ${item.join('|')} of ${task || 'the run'}`;
}

export async function untestedFindings(
  after: CheckedDefinition,
  before: CheckedDefinition | null,
): Promise<UntestedResult> {
  const report = generatePaths(after.definition);
  const now = await expectationItems(after);
  if ('invalid' in now)
    return {
      findings: [now.invalid],
      judged: [],
      summary: {
        paths: report.paths.length,
        tested: 0,
        untested: 0,
        newlyUntested: 0,
        expectations: 0,
        expectationsFile: now.invalid.location.file,
      },
    };
  const was = before ? await expectationItems(before) : null;
  const lostIfUncovered = was && !('invalid' in was) ? was.covered : new Set<string>();
  const changed = before ? changedTasks(before, after) : null;
  const applicable = new Set(catalogItems(compile(after.definition)).applicable.map(itemKey));
  const seen = new Set<string>();
  const findings: Finding[] = [];
  const judged: UntestedResult['judged'] = [];
  let untested = 0;
  for (const path of report.paths) {
    const own = path.covers.filter((k) => applicable.has(k) && !seen.has(k));
    for (const k of path.covers) seen.add(k);
    const missing = own.filter((k) => !now.covered.has(k));
    if (missing.length > 0) untested++;
    // Why it is newly untested: its uncovered items of a changed task, or that the old expectations covered.
    const why = (k: string) => changed === null || changed.has(taskOfKey(k) ?? '') || lostIfUncovered.has(k);
    const newly = missing.some(why);
    // A path untested before as now is no finding: it passes the gate (counted in the summary).
    judged.push({ name: path.name, ok: !newly });
    if (!newly) continue;
    // The reasons first: the message names them and the finding points at their task.
    missing.sort((a, b) => Number(why(b)) - Number(why(a)));
    const task = missing.map(taskOfKey).find((t) => t !== null) ?? undefined;
    const shown = missing.slice(0, 3).map(itemText).join('; ');
    const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
    findings.push({
      section: 'untested',
      rule: 'path-untested',
      level: 'warning',
      message: `path "${path.name}" is tested by no expectation: ${shown}${more} (add one to ${expectationsFileFor(after.file)}; \`ledgerflow paths ${after.file}\` shows the path)`,
      location: taskLocation(after, task),
      ...(task !== undefined ? { task } : {}),
    });
  }
  return {
    findings,
    judged,
    summary: {
      paths: report.paths.length,
      tested: report.paths.length - untested,
      untested,
      newlyUntested: findings.length,
      expectations: now.count,
      expectationsFile: now.file,
    },
  };
}
