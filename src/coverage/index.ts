/**
 * Path coverage: every path through a definition's statechart that matters (each decision case, each task's success,
 * retry, exhausted failure, timeout, approval, rejection, approval timeout, skip), the coverage they reach, and running
 * them against the real runtime with scripted outcomes.
 */
export { generatePaths, type GeneratedPath, type PathReport, type CoverageTally, type Tally } from './paths.js';
export { catalogItems, itemKey } from './items.js';
export { runPath, type PathResult } from './run-path.js';
export { VirtualClock } from './clock.js';
export { parseExpectations, expectationsFileFor, ExpectationSchema } from './expectations.js';
export { runExpectation, type ExpectationResult } from './run-expectation.js';
export { itemsOfLog } from './log-items.js';
