/**
 * The report of one `ledgerflow check`: the four sections' findings and what each checked, the verdict, and the one
 * JSON shape (`--format json`) every store gives. The gate fails on an error finding; on a warning too with `strict`.
 */
import type { Finding, FindingLevel, FindingSection } from './findings.js';

export const SECTION_TITLES: Record<FindingSection, string> = {
  change: 'What changed',
  runs: 'What it does to runs',
  untested: 'What is newly untested',
  properties: 'The properties',
};

export interface SectionReport {
  section: FindingSection;
  title: string;
  /** One line: what was checked and how it came out. */
  summary: string;
  /** Whether the section passes the gate: no error (and, strict, no warning). */
  ok: boolean;
  findings: Finding[];
  /** What the section checked that passed (a run taking over as is, a tested path): JUnit's passing testcases. */
  passed: string[];
}

export interface CheckedVersion {
  file: string | null;
  version: number;
  /** Where it came from: a file given (--against or the new one), ./definitions or the bundled ones, or the deployed one. */
  source: 'file' | 'definitions' | 'deployed';
}

export interface CheckReport {
  workflowId: string;
  new: CheckedVersion;
  /** The version compared with; null for the first version of a workflow. */
  against: CheckedVersion | null;
  strict: boolean;
  safe: boolean;
  counts: Record<FindingLevel, number>;
  sections: SectionReport[];
}

const failing = (f: Finding, strict: boolean) => f.level === 'error' || (strict && f.level === 'warning');

export function checkReport(
  head: Pick<CheckReport, 'workflowId' | 'new' | 'against' | 'strict'>,
  sections: Omit<SectionReport, 'title' | 'ok'>[],
): CheckReport {
  const all = sections.flatMap((s) => s.findings);
  const count = (level: FindingLevel) => all.filter((f) => f.level === level).length;
  return {
    ...head,
    safe: !all.some((f) => failing(f, head.strict)),
    counts: { error: count('error'), warning: count('warning'), note: count('note') },
    sections: sections.map((s) => ({
      section: s.section,
      title: SECTION_TITLES[s.section],
      ok: !s.findings.some((f) => failing(f, head.strict)),
      summary: s.summary,
      findings: s.findings,
      passed: s.passed,
    })),
  };
}

/** Whether a finding fails the gate in this report (what JUnit marks a failure). */
export const failsGate = (report: Pick<CheckReport, 'strict'>, f: Finding): boolean => failing(f, report.strict);

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The verdict line the text output ends with. */
export function verdictLine(r: CheckReport): string {
  const counts = `${plural(r.counts.error, 'error')}, ${plural(r.counts.warning, 'warning')}`;
  if (!r.safe)
    return `✗ unsafe to deploy: ${counts}${r.strict && r.counts.error === 0 ? ' (--strict: warnings fail the gate)' : ''}`;
  return `✓ safe to deploy: ${counts}${r.counts.warning > 0 ? ' (warnings do not fail the gate; --strict makes them)' : ''}`;
}
