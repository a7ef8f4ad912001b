/** The text report: each section with ✓ or ✗ and its summary, its findings under it (file:line:col first), the verdict last. */
import { inert } from '../terminal/index.js';
import type { Finding } from './findings.js';
import { verdictLine, type CheckReport } from './report.js';

const MARK = { error: '✗', warning: '⚠', note: '·' } as const;

const findingLine = (f: Finding) =>
  `    ${MARK[f.level]} ${f.location.file}:${f.location.line}:${f.location.col}: ${inert(f.message)} [${f.rule}]`;

export function textReport(r: CheckReport): string {
  const against = r.against
    ? ` against ${r.against.file ?? `the deployed ${r.workflowId}`} (v${r.against.version})`
    : ' (first version: nothing to compare with)';
  const lines = [`ledgerflow check ${r.new.file} (${r.workflowId} v${r.new.version})${against}`];
  for (const s of r.sections) {
    lines.push(`${s.ok ? '✓' : '✗'} ${s.title}: ${s.summary}`);
    for (const f of s.findings) lines.push(findingLine(f));
  }
  lines.push(verdictLine(r));
  return `${lines.join('\n')}\n`;
}
