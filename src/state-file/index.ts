/**
 * The state file (`.3ox/workflow.state.yaml`): a projection of the run log
 * in the layout seed 000 draws, written after each commit (writer.ts) and
 * rebuilt from the log byte for byte (build.ts). docs/state-file.md.
 */
export { stateEntry, stateFileText, elapsedText, STATE_FILE_HEADER, type FoldedRun, type StateEntry } from './layout.js';
export { buildStateFile, shownRuns, RunEntries, RunSummaries, DEFAULT_KEEP } from './build.js';
export { StateFileWriter, writeAtomically, type StateFileWriterOptions } from './writer.js';
