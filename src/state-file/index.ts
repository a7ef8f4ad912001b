/**
 * The state file (`.3ox/workflow.state.yaml`): a projection of the run log in 3OX's state file layout, written after
 * each commit (writer.ts) and rebuilt from the log byte for byte (build.ts). docs/state-file.md.
 */
export { stateEntry, elapsedText, STATE_FILE_HEADER, type FoldedRun } from './layout.js';
export { buildProjection, shownRuns, RunEntries, RunSummaries, DEFAULT_KEEP } from './build.js';
export { StateFileWriter, writeAtomically, writeProjection, worksetsDir } from './writer.js';
export { probeWritable } from './probe.js';
