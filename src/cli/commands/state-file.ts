/**
 * The state file from the CLI (docs/state-file.md): `run`, `resume` and `serve` choose it and write it once before
 * anything else (useStateFile), and `ledgerflow state-file [--rebuild] [PATH]` prints or rewrites it from the log.
 * Which file, and the store's watchers: state-file-choice.ts.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Definition } from '../../definition/index.js';
import { UsageError, errorMessage } from '../../errors/index.js';
import { buildProjection, probeWritable, worksetsDir, writeProjection } from '../../state-file/index.js';
import type { Io } from '../render/io.js';
import { followStateFile } from './state-file-follow.js';
import { catchStopSignals, untilSignal } from '../signals.js';
import { storeFor, useStore } from '../open-store.js';
import {
  chooseStateFile,
  DEFAULT_STATE_FILE,
  inProject,
  stateFileKeep,
  stateFilePath,
  type StateFileFlags,
} from '../state-file-choice.js';
import type { GlobalOpts } from '../flags/store.js';
import { recordedDefinitionOf } from '../../events/index.js';
import { sideFor } from '../runs.js';

export type { StateFileFlags };

/**
 * `run` and `resume` choose the file before the store is opened, and check now that it can be written, so a path that
 * cannot be is a usage error (exit 2) before the run is touched. The file itself is written by the store's writer as
 * it opens (state-file-choice.ts), and only when it is behind the store.
 */
export async function useStateFile(g: GlobalOpts, flags: StateFileFlags, of?: Definition | string): Promise<void> {
  const side = await sideFor(g);
  const path = side.keepsStateFile ? stateFilePath(flags, typeof of === 'string' ? await recordedIn(g, of) : of) : null;
  const choice = path === null ? null : { path, keep: stateFileKeep(flags) };
  chooseStateFile(choice);
  if (choice === null) return;
  try {
    await probeWritable(choice.path);
  } catch (err) {
    throw new UsageError(
      `cannot write the state file ${choice.path}: ${errorMessage(err)}; pass another with --state-file PATH, or --no-state-file; nothing was started`,
      { option: '--state-file', path: choice.path },
    );
  }
}

/** The definition run `runId` recorded (resume: where its state file is), if it started. */
async function recordedIn(g: GlobalOpts, runId: string): Promise<Definition | undefined> {
  const started = (await storeFor(g).read(runId, { toSeq: 1 }))[0];
  return started?.type === 'run.started' ? recordedDefinitionOf(started.data) : undefined;
}

/** `ledgerflow state-file [--rebuild] [PATH]`: the file as the log has it, printed, or written over PATH (default .3ox/workflow.state.yaml). */
export async function stateFileCmd(
  io: Io,
  g: GlobalOpts,
  path: string | undefined,
  opts: { rebuild?: boolean; keep?: string; follow?: boolean },
): Promise<number> {
  const keep = stateFileKeep({ ...(opts.keep !== undefined ? { stateFileKeep: opts.keep } : {}) });
  await useStore(g);
  const store = storeFor(g);
  if (opts.follow) {
    if (opts.rebuild)
      throw new UsageError('--follow keeps the file written; leave out --rebuild', { option: '--follow' });
    const target = path !== undefined ? inProject(path, 'the state file', process.cwd()) : resolve(DEFAULT_STATE_FILE);
    const follower = followStateFile(store, { path: target, keep, warn: io.err });
    await follower.ready;
    const from = (await sideFor(g)).says.log;
    catchStopSignals(); // before the line that says it is ready (signals.ts)
    io.err(
      `keeping ${relative(process.cwd(), target)} and ${relative(process.cwd(), worksetsDir(target))}/ from ${from} (Ctrl-C stops)`,
    );
    return untilSignal(io, 'following', () => follower.stop());
  }
  const projection = await buildProjection(store, keep, undefined, (runId, reason) =>
    io.err(`warning: run ${runId} is left out: ${reason}`),
  );
  if (!opts.rebuild) {
    io.out(projection.text.trimEnd());
    return 0;
  }
  const target = path !== undefined ? inProject(path, 'the state file', process.cwd()) : resolve(DEFAULT_STATE_FILE);
  const existed = existsSync(target);
  await writeProjection(target, projection, null);
  io.out(
    `${existed ? 'wrote' : 'made'} ${relative(process.cwd(), target)} and ${projection.worksets.size} workset${projection.worksets.size === 1 ? '' : 's'} in ${relative(process.cwd(), worksetsDir(target))}/ from the log`,
  );
  return 0;
}
