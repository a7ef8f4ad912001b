/**
 * The state file's and the worksets' text from their entries: YAML, and nothing else, so the writer's thread
 * (thread-worker.ts) renders them with what it imports here alone. The entries are made from the log (layout.ts,
 * workset.ts); a rebuild and the live writer write these functions' text for the same entries, wherever they run.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { blockYaml } from './block-yaml.js';

/** The first line of the file: what it is and that editing it changes nothing. */
export const STATE_FILE_HEADER =
  '# Written by ledgerflow from the run log after each step. Editing or deleting it changes no run; `ledgerflow state-file --rebuild` writes it again.\n';

export const WORKSET_HEADER =
  '# Written by ledgerflow from the run log with the state file (a workset: docs/state-file.md). Editing or deleting it changes no run.\n';

const OPTIONS = { aliasDuplicateObjects: false, lineWidth: 0 } as const;

/** `stringify(value, OPTIONS)`, the same bytes: block-yaml.ts writes the plain data entries are made of ~10× faster, yaml the rest. */
function yamlText(value: unknown): string {
  return blockYaml(value) ?? stringify(value, OPTIONS);
}

/** One run's block of the file: its id, and its entry under it. */
export function entryText(e: Record<string, unknown>): string {
  return yamlText({ [String(e.id)]: e });
}

/** The whole file from the blocks of the runs it shows, in order (a top-level mapping is its pairs one after another). */
export function fileText(blocks: readonly string[]): string {
  return STATE_FILE_HEADER + (blocks.length === 0 ? '{}\n' : blocks.join(''));
}

/** A run's workset file from its workset (workset.ts: worksetData). */
export function worksetYaml(workset: Record<string, unknown>): string {
  return WORKSET_HEADER + yamlText({ workset });
}

/** The file name of a run's workset. */
export function worksetFile(runId: string): string {
  return `ws-${runId}.yaml`;
}

/** The worksets' folder beside a state file: `.3ox/worksets/`. */
export function worksetsDir(stateFile: string): string {
  return join(dirname(stateFile), 'worksets');
}

/**
 * The temporary a whole write of `path` goes through before its rename: `<path>.<pid>.<random>.tmp`, the pid saying
 * whose it is (writer.ts removes those of processes gone), the random part keeping two writes of one process apart (a
 * command's first write and its writer's catch-up, the writer's thread and its engine's).
 */
export function temporaryOf(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** A temporaryOf name (and the `<path>.<pid>.tmp` of earlier versions): the file it stands for, and its pid. */
export const TEMPORARY = /^(.+?)\.(\d+)(?:\.[0-9a-f]{8})?\.tmp$/;
