/**
 * Which state file this process keeps, and the embedded store watched by its writer and by the execution log
 * (docs/state-file.md). open-store.ts wraps every embedded store through withObservers; `run`, `resume` and `serve`
 * choose the file first (state-file.ts: useStateFile), other commands take the default rule.
 */
import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Definition } from '../definition/index.js';
import { UsageError, errorMessage } from '../errors/index.js';
import { ExecutionLogAppender } from '../execution-log/index.js';
import { DEFAULT_KEEP, StateFileWriter } from '../state-file/index.js';
import type { EventStore } from '../store/index.js';
import { observedStore } from '../store/observed.js';

/** The state file's path in a 3OX project, relative to the project folder (the working directory). */
export const DEFAULT_STATE_FILE = '.3ox/workflow.state.yaml';

/** `--state-file PATH`, `--no-state-file` (false; commander's true means neither was given) and `--state-file-keep N`. */
export interface StateFileFlags {
  stateFile?: string | boolean;
  stateFileKeep?: string;
}

/**
 * The file to keep, or null for none: `--state-file` or LEDGERFLOW_STATE_FILE, else the definition's
 * `monitoring.state_file`, else `.3ox/workflow.state.yaml` when the definition has a `monitoring:` block or the working
 * folder a `.3ox/` folder. `--no-state-file` (or LEDGERFLOW_STATE_FILE=off) keeps none.
 */
export function stateFilePath(flags: StateFileFlags, definition?: Definition, cwd = process.cwd()): string | null {
  if (flags.stateFile === false) return null;
  const env = process.env.LEDGERFLOW_STATE_FILE;
  if (typeof flags.stateFile === 'string') return inProject(flags.stateFile, '--state-file', cwd);
  if (env !== undefined && env !== '') return env === 'off' ? null : inProject(env, 'LEDGERFLOW_STATE_FILE', cwd);
  const monitoring = definition?.monitoring;
  const named = monitoring?.state_file;
  if (typeof named === 'string' && named !== '')
    return inProject(named, `${definition!.id}'s monitoring.state_file`, cwd);
  if (monitoring !== undefined || isDir(resolve(cwd, '.3ox'))) return resolve(cwd, DEFAULT_STATE_FILE);
  return null;
}

/** How many settled runs the file keeps: `--state-file-keep N` (0 or more), default 50. */
export function stateFileKeep(flags: StateFileFlags): number {
  if (flags.stateFileKeep === undefined) return DEFAULT_KEEP;
  const n = Number(flags.stateFileKeep);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(
      `--state-file-keep ${flags.stateFileKeep} is not a count: give how many settled runs the state file keeps, e.g. --state-file-keep 50`,
      { option: '--state-file-keep' },
    );
  return n;
}

/** A path inside the project folder (the working directory), resolved; anywhere else is refused. */
export function inProject(path: string, source: string, cwd: string): string {
  const abs = resolve(cwd, path);
  const rel = relative(cwd, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new UsageError(
      `${source} ${path} is outside the project folder ${cwd}: the state file is kept inside it, e.g. ${DEFAULT_STATE_FILE}; nothing was started`,
      { option: '--state-file', path: abs },
    );
  }
  return abs;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The file this process keeps: chosen by `run` and `resume` (useStateFile: their flags and the definition), else by the
 * default rule without a definition (LEDGERFLOW_STATE_FILE, or `.3ox/` in the working folder), so `approve`, `signal`,
 * `cancel`, `retry` and the others that commit keep it too. One writer per file per process.
 */
let chosen: { path: string; keep: number } | null | undefined;
const writers = new Map<string, StateFileWriter>();

let executionLog: ExecutionLogAppender | undefined;

/**
 * The embedded store, watched (open-store.ts): by the state file's writer when this process keeps one, and by the
 * execution log, which appends the lines of runs whose definition says `monitoring.log_to`.
 */
export function withObservers(store: EventStore, warn: (line: string) => void): EventStore {
  let choice = chosen;
  if (choice === undefined) {
    let path: string | null;
    try {
      path = stateFilePath({});
    } catch (err) {
      warn(`warning: ${errorMessage(err)}`);
      path = null;
    }
    choice = chosen = path === null ? null : { path, keep: DEFAULT_KEEP };
  }
  executionLog ??= new ExecutionLogAppender(store, { cwd: process.cwd(), warn: (m) => warn(`warning: ${m}`) });
  if (choice === null) return observedStore(store, [executionLog]);
  let writer = writers.get(choice.path);
  if (!writer) {
    writer = new StateFileWriter(store, { path: choice.path, keep: choice.keep, warn: (m) => warn(`warning: ${m}`) });
    writers.set(choice.path, writer);
    // Brought up to date with the log now, not at this process's first commit: a process killed between a commit
    // and its coalesced write left the file a step behind, and a reader (status, list, watch) commits nothing.
    // The write's first pass also clears the temporaries a killed writer left (writeProjection).
    writer.catchUp();
  }
  return observedStore(store, [executionLog, writer]);
}

/** Sets the file this process keeps (null: none), before its first store is opened. */
export function chooseStateFile(choice: { path: string; keep: number } | null): void {
  chosen = choice;
}
