/**
 * The agent's file operations, each one a step a kill -9 may fall between: a task file appears whole or not at all
 * (written under a dot-name, synced, then renamed into place, so a `task-*.yaml` glob never sees half of one), and a
 * file moves to `done/` or `rejected/` by one rename. Each folder's entry is synced after a rename, so what was moved
 * stays moved after a power cut too. What a crash leaves (a dot-named temporary file, a reason written before its file
 * moved) is redone by the next pass.
 */
import { lstat, mkdir, open, readFile, readdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDir } from '../store/index.js';
import { readTaskMessage, type TaskMessage } from './messages.js';

/** Writes `path` whole: a temporary dot-file in the same folder, synced, renamed over it. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** Moves `path` into `folder` (created when missing) under `name` (its own by default), replacing a file of that name there. */
export async function moveInto(path: string, folder: string, name = basename(path)): Promise<string> {
  await mkdir(folder, { recursive: true });
  const to = join(folder, name);
  await rename(path, to);
  await syncDir(folder);
  await syncDir(dirname(path));
  return to;
}

/**
 * Moves `path` into `folder` beside a `<name>.reason` file saying why. The reason is written first: a crash between the
 * two leaves the file where it was, judged again (and the reason written again) by the next pass. A name already taken
 * there (an earlier attempt's refused file) gets a number: refusals are all kept.
 */
export async function moveWithReason(path: string, folder: string, reason: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  let name = basename(path);
  const taken = new Set(await readdir(folder));
  for (let n = 1; taken.has(name); n++) name = basename(path).replace(/(\.yaml)?$/, `.${n}$1`);
  await writeAtomic(join(folder, `${name}.reason`), `${reason}\n`);
  return moveInto(path, folder, name);
}

/**
 * The size of `path`, or null when it is gone (moved by another pass, or by whoever wrote it). A link or anything but a
 * plain file counts as over every cap: this process would otherwise read what it points to (a file the agent could not
 * read itself) into a refusal's reason or the log.
 */
export async function sizeOf(path: string): Promise<number | null> {
  const s = await unlessGone(lstat(path), null);
  return s === null ? null : s.isFile() ? s.size : Number.POSITIVE_INFINITY;
}

/** The names in `folder` that start with `prefix` and end in `.yaml` ([] when the folder is missing). */
export async function yamlFiles(folder: string, prefix: string): Promise<string[]> {
  return (await unlessGone(readdir(folder), [])).filter((n) => n.startsWith(prefix) && n.endsWith('.yaml')).sort();
}

/** A task file read back (what the agent wrote for an attempt), or null when it is gone (moved to done/ meanwhile). */
export async function readTaskFile(path: string): Promise<TaskMessage | null> {
  const text = await unlessGone(readFile(path, 'utf8'), null);
  return text === null ? null : readTaskMessage(text);
}

/** What `read` gives, or `gone` when its file or folder is not there. */
async function unlessGone<T, G>(read: Promise<T>, gone: G): Promise<T | G> {
  try {
    return await read;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return gone;
    throw err;
  }
}
