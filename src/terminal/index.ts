/**
 * Text of a run for a terminal, pure and light (the CLI loads it for every command): run text made inert (inert.ts) and
 * the line-a-change progress that `run`, `serve`, `emit`, `ui` and the demo print (progress.ts). The full-screen
 * monitor of `ledgerflow watch` is src/monitor/. This file is the module's only import surface.
 */
export { inert, inertJson, inertValue, inertLines } from './inert.js';
export { progressLines, PROGRESS_SYMBOLS } from './progress.js';
export { etaLeft, etaText, leftText, percentText, progressBar, progressText } from './progress-bar.js';
