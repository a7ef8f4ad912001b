/**
 * The executor's inner tier (as nats.js keeps `internal_mod.ts` beside `mod.ts`): the commit primitives that
 * limits/ commits through (admission decisions are commits of their own). limits/ cannot import the executor's
 * index.ts, which imports limits/ for the commits it frees; this file imports nothing that imports limits/.
 */
export type { Clock } from './clock.js';
export { commitWithRetry } from './commit-with-retry.js';
export { appendCommit } from './run-log.js';
