/**
 * SARIF 2.1.0, as GitHub code scanning takes it (github/codeql-action/upload-sarif): one run of the tool
 * "ledgerflow", its rules (the ids the findings use), and one result per finding placed at file:line:col. Artifact
 * uris are relative with forward slashes, as code scanning resolves them against the repository's root.
 */
import type { Log, Result } from 'sarif';
import type { Finding } from './findings.js';
import type { CheckReport } from './report.js';
import { INFORMATION_URI, ruleText } from './rules.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** A path as given (`./definitions\\refund.yaml`) → a relative uri (`definitions/refund.yaml`); an absolute one kept. */
export function artifactUri(file: string): string {
  return file.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

function result(f: Finding, ruleIndex: number): Result {
  return {
    ruleId: f.rule,
    ruleIndex,
    level: f.level,
    message: { text: f.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(f.location.file) },
          region: { startLine: f.location.line, startColumn: f.location.col },
        },
      },
    ],
    // Keeps an alert the same alert from one push to the next, wherever its line moves.
    partialFingerprints: { ledgerflowFinding: `${f.rule}/${f.task ?? ''}/${f.runId ?? ''}/${f.path?.join('>') ?? ''}` },
    properties: { section: f.section, ...(f.task ? { task: f.task } : {}), ...(f.runId ? { runId: f.runId } : {}) },
  };
}

/** Typed by the SARIF 2.1.0 object model (@types/sarif, made from its schema): a field it does not know fails the build. */
export function sarifReport(r: CheckReport, version: string): Log {
  const findings = r.sections.flatMap((s) => s.findings);
  const rules = [...new Set(findings.map((f) => f.rule))].sort();
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'ledgerflow',
            informationUri: INFORMATION_URI,
            version,
            rules: rules.map((id) => ({
              id,
              name: id,
              shortDescription: { text: ruleText(id) },
              helpUri: INFORMATION_URI,
            })),
          },
        },
        // One category per workflow: the reports of several definitions uploaded together stay apart (code scanning
        // takes one run per tool and category).
        automationDetails: { id: `ledgerflow-check/${r.workflowId}/` },
        results: findings.map((f) => result(f, rules.indexOf(f.rule))),
        properties: { workflowId: r.workflowId, safe: r.safe },
      },
    ],
  };
}
