/**
 * The state file (`.3ox/workflow.state.yaml`): a projection of the run log
 * in 3OX's state file layout, written after each commit (writer.ts) and
 * rebuilt from the log byte for byte (build.ts). docs/state-file.md.
 */
export { stateEntry, stateFileText, elapsedText, STATE_FILE_HEADER, type FoldedRun, type StateEntry } from './layout.js';
export { buildStateFile, buildProjection, shownRuns, RunEntries, RunSummaries, DEFAULT_KEEP, type Projection } from './build.js';
export { StateFileWriter, writeAtomically, writeProjection, worksetsDir, RETRY_MS, type StateFileWriterOptions, type WriteText } from './writer.js';
export { worksetText, worksetFile, WORKSET_HEADER } from './workset.js';
