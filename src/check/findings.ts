/**
 * What `ledgerflow check` reports: findings, each a reason a change is unsafe (error) or worth a look (warning, note),
 * with the place in the definition file a person opens to fix it. Every section (what changed, what it does to the
 * runs, what is newly untested, the properties) gives findings of this one shape, and every format (text, json,
 * SARIF, JUnit) renders them, so a section never knows the formats nor a format the sections.
 */

export type FindingLevel = 'error' | 'warning' | 'note';

/** The four parts of a check, in the order the report shows them. */
export type FindingSection = 'change' | 'runs' | 'untested' | 'properties';

export interface FindingLocation {
  /** The definition file as given on the command line (relative paths stay relative: SARIF and CI annotations need them so). */
  file: string;
  /** 1-based, as `validate` prints them. */
  line: number;
  col: number;
}

export interface Finding {
  section: FindingSection;
  /** A stable rule id (kebab-case, e.g. `task-removed`, `input-newly-required`, `run-cannot-take-over`): SARIF's ruleId. */
  rule: string;
  level: FindingLevel;
  /** One line a person reads: what is wrong and, where there is one, the fix. */
  message: string;
  location: FindingLocation;
  /** The task the finding is about, where there is one. */
  task?: string;
  /** The run the finding is about (the runs section). */
  runId?: string;
  /** A counter-example: the steps of the shortest path that breaks a property, in order. */
  path?: string[];
}
