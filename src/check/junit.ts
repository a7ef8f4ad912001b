/**
 * JUnit XML, as CI systems show test results (GitHub test reporters, GitLab's `artifacts:reports:junit`, Jenkins'
 * junit step): one testsuite per section, one testcase per check — each finding, and each thing the section checked
 * that passed — a finding that fails the gate a <failure>, one that does not a passing testcase with its text in
 * <system-out>. A section that checked nothing has one passing testcase, so every section shows.
 */
import { artifactUri } from './sarif.js';
import { failsGate, type CheckReport, type SectionReport } from './report.js';

/** Text as XML character data or an attribute value: the five specials escaped, characters XML 1.0 forbids dropped. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

function suite(r: CheckReport, s: SectionReport): { xml: string; tests: number; failures: number } {
  const classname = `ledgerflow.check.${s.section}`;
  const cases: string[] = [];
  let failures = 0;
  for (const f of s.findings) {
    const at = `${artifactUri(f.location.file)}:${f.location.line}:${f.location.col}`;
    // What the finding is about, as its message begins (`run <id> (WAITING, v1)`, `path "…" is tested by no expectation`).
    const name = `${f.rule}: ${f.message.split(': ')[0]}`;
    const head = `    <testcase${attrs({ classname, name, file: artifactUri(f.location.file), line: f.location.line })}>`;
    if (failsGate(r, f)) {
      failures++;
      cases.push(
        `${head}\n      <failure${attrs({ message: f.message, type: f.rule })}>${xmlEscape(`${at}: ${f.message}`)}</failure>\n    </testcase>`,
      );
    } else
      cases.push(
        `${head}\n      <system-out>${xmlEscape(`${f.level} ${at}: ${f.message}`)}</system-out>\n    </testcase>`,
      );
  }
  const passed = s.passed.length > 0 || cases.length > 0 ? s.passed : [s.summary];
  for (const name of passed) cases.push(`    <testcase${attrs({ classname, name })}/>`);
  const tests = cases.length;
  const head = `  <testsuite${attrs({ name: s.title, tests, failures, errors: 0, skipped: 0 })}>`;
  return { xml: `${head}\n${cases.join('\n')}\n  </testsuite>`, tests, failures };
}

export function junitReport(r: CheckReport): string {
  const suites = r.sections.map((s) => suite(r, s));
  const tests = suites.reduce((n, s) => n + s.tests, 0);
  const failures = suites.reduce((n, s) => n + s.failures, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attrs({ name: `ledgerflow check ${r.workflowId}`, tests, failures, errors: 0 })}>\n${suites.map((s) => s.xml).join('\n')}\n</testsuites>\n`;
}
