/** `ledgerflow check`, the deploy gate: what a new version of a workflow changes, judged before it ships. */
export type { Finding, FindingLevel, FindingLocation, FindingSection } from './findings.js';
export { diffDefinitions, type CheckedDefinition, type DiffOptions } from './diff.js';
export { parentsIn } from './parent-folder.js';
export { propertyFindings } from './properties.js';
export { runFindings, type RunsCheck, type RunsResult, type RunsSummary } from './runs.js';
export { untestedFindings, type UntestedResult, type UntestedSummary } from './untested.js';
export { runGate, type GateInput } from './gate.js';
export {
  checkReport,
  verdictLine,
  SECTION_TITLES,
  type CheckReport,
  type CheckedVersion,
  type SectionReport,
} from './report.js';
export { textReport } from './text.js';
export { sarifReport, SARIF_SCHEMA } from './sarif.js';
export { junitReport, xmlEscape } from './junit.js';
