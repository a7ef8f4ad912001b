/**
 * File agents: the 1N/0UT file protocol (docs/agents.md: tasks in as files in 1N.3OX/, results out in 0UT.3OX/). An
 * agent is any program that reads task files and writes result files; `ledgerflow agent` is the worker between it and
 * the runs (exchange.ts, over a port per store: store-attempts.ts, worker-attempts.ts), the files' shapes and limits
 * are messages.ts, and each file operation a crash may fall between is folders.ts.
 */
export { FileExchange, type PassReport } from './exchange.js';
export { StoreAttempts } from './store-attempts.js';
export { WorkerAttempts } from './worker-attempts.js';
export { agentsSeen } from './registry.js';
