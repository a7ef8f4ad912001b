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
export type { Expectation } from './expectations.js';
// The path model and scripted outputs, for `ledgerflow verify` (src/verify), which walks the same model exhaustively.
export {
  dependentsOf,
  initialModel,
  modelActions,
  serializeModel,
  stepModel,
  type ModelAction,
  type ModelOptions,
  type ModelState,
} from './model.js';
export {
  baseInput,
  defaultOutput,
  inputVariants,
  outputVariants,
  planDecisions,
  type DecisionPlan,
} from './outputs.js';
export { setIn } from './values.js';
