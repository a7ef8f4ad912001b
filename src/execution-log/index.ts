/**
 * The execution log (a definition's `monitoring: { log_to, report_frequency }`): one line per step, appended as runs
 * commit (appender.ts) and printed again from any run's log by `ledgerflow history <run> --format log` (lines.ts).
 */
export { executionLogLines, executionLogOf } from './lines.js';
export { ExecutionLogAppender } from './appender.js';
