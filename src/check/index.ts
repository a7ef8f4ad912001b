/** `ledgerflow check`, the deploy gate: what a new version of a workflow changes, judged before it ships. */
export type { Finding, FindingLevel, FindingLocation, FindingSection } from './findings.js';
export { diffDefinitions, type CheckedDefinition, type DiffOptions } from './diff.js';
export { parentsIn } from './parent-folder.js';
export { propertyFindings } from './properties.js';
