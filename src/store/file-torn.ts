/**
 * The torn last line of a run's log (a write cut short by a crash), kept before the writer cuts it: appended
 * to `<runId>.jsonl.torn`, durable before the cut. Its own file: the file store (file.ts) calls it, under the
 * writer lock, only when a log ends in a torn line; and the warning it gives once it has cut it.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, errorMessage } from '../errors/index.js';
import { statOrNull, syncDir } from './durable-fs.js';
import { readAt } from './jsonl.js';
import { APPEND_NO_LINK } from './open-logs.js';
import type { TornTail } from './port.js';

/** The torn bytes [from, to) of the log at `path`, appended to `file` (one piece a line) and synced. */
export async function keepTornBytes(
  runId: string,
  path: string,
  from: number,
  to: number,
  file: string,
  runsDir: string,
): Promise<void> {
  try {
    const src = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW); // never a link's target (jsonl.ts)
    let bytes: Buffer;
    try {
      bytes = await readAt(src, from, to - from);
    } finally {
      await src.close();
    }
    const existed = (await statOrNull(file)) !== null;
    const fh = await open(file, APPEND_NO_LINK, 0o666);
    try {
      await fh.write(Buffer.concat([bytes, Buffer.from('\n')]));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    if (!existed) await syncDir(runsDir);
  } catch (err) {
    throw new StoreError(
      `cannot keep the torn last line of ${path} in ${file}: ${errorMessage(err)}`,
      { runId, file },
      { cause: err },
    );
  }
}

/**
 * What to warn of a torn line, said by the process that cut the line, once: every other process reading the log
 * later would say it again (a run read by seventeen commands said it seventeen times); `replay` reports the kept
 * bytes for whoever asks.
 */
export function tornWarning(torn: TornTail, what: string): string {
  return `run ${torn.runId}: a torn last line (a write cut short by a crash) ${what}; ${torn.bytes} bytes of torn lines are kept in ${torn.file}`;
}

/** `<runId>.jsonl.torn` beside the run's log: the torn lines once cut from it. */
export function tornFileOf(runsDir: string, runId: string): string {
  return join(runsDir, `${runId}.jsonl.torn`);
}

/** The torn lines kept of a run, or null when none ever were. */
export async function tornTailOf(runsDir: string, runId: string): Promise<TornTail | null> {
  const file = tornFileOf(runsDir, runId);
  const st = await statOrNull(file);
  return st ? { runId, file, bytes: st.size } : null;
}

/** The torn bytes [from, to) of the run's log at `path` kept before they are cut (keepTornBytes), and the warning said. */
export async function keepTorn(
  runId: string,
  path: string,
  span: { from: number; to: number },
  runsDir: string,
  warn: (message: string) => void,
): Promise<void> {
  await keepTornBytes(runId, path, span.from, span.to, tornFileOf(runsDir, runId), runsDir);
  const torn = await tornTailOf(runsDir, runId);
  if (torn) warn(tornWarning(torn, `of ${span.to - span.from} bytes was cut from ${path}`));
}
