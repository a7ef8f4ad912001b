/**
 * What each rule of the gate means, in a line: SARIF's rule descriptions (GitHub shows them beside each alert). A rule
 * a section adds that is not listed here is described by its id.
 */
export const RULE_TEXT: Record<string, string> = {
  'run-cannot-take-over': 'An unsettled run cannot be taken over by the new version (its history parts from it)',
  'run-takes-over-with-map': 'An unsettled run takes over only with a task map (a task renamed)',
  'settled-run-diverges': 'A settled run replayed under the new version parts from its history',
  'run-sealed-unjudged':
    'A run read without the data key whose course turned on sealed values: judged only up to there (give the gate LF_DATA_KEY)',
  'path-untested': 'A path of the new version that no expectation covers, touching what changed',
  'expectations-invalid': 'The expectations beside the definition do not fit the new version',
};

export const ruleText = (rule: string): string => RULE_TEXT[rule] ?? rule.replace(/-/g, ' ');

/** Where a person reads about the gate and its rules. */
export const INFORMATION_URI = 'https://www.npmjs.com/package/ledgerflow';
