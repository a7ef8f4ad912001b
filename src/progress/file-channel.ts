/**
 * The embedded store's progress channel: one small JSON file per attempt in flight, under
 * `<store>/progress/<runId>/<instance>.json` (the instance base64url, so any task name is a file name), each written
 * whole to a temporary file and renamed over the last (a reader never sees half of one). Any process on the store
 * reads them: `status`, `watch`, `ui`. Removed when its attempt ends. One left by a process that died is not read: each
 * file names the process that wrote it (processMark), and a writer that died on this host is told at once, before
 * anything restarts its attempt (a `run` killed with -9 leaves its attempt in flight in the log until a `resume`);
 * the file goes with its run's folder: when the run settles or is archived (`sweep`), or at `serve`'s sweeps
 * (sweep.ts). Readers are told of changes by `watch` (file-watch.ts).
 */
import { statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diedHere, processMark } from '../store/index.js';
import { instanceToken, isLiveProgress, type ProgressChannel, type ProgressListener } from './channel.js';
import { watchFolder } from './file-watch.js';
import type { LiveProgress } from './value.js';

/** A run id as a folder name: ids are checked at the boundary, this keeps any other text from leaving the folder. */
const safe = (runId: string) => (/^[A-Za-z0-9._-]+$/.test(runId) && runId !== '.' && runId !== '..' ? runId : null);

/** Which process writes this process's values (readers skip those of one that died). */
const WRITER = processMark();

export class FileProgressChannel implements ProgressChannel {
  private seq = 0;
  /** `onPut`: told of each value written (the state file's writer, which shows them). */
  constructor(
    private readonly dir: string,
    private readonly onPut?: (runId: string) => void,
  ) {}

  /** The folder of the store's progress files. */
  static under(storeDir: string, onPut?: (runId: string) => void): FileProgressChannel {
    return new FileProgressChannel(join(storeDir, 'progress'), onPut);
  }

  async put(p: LiveProgress): Promise<void> {
    const run = safe(p.runId);
    if (run === null) return;
    const folder = join(this.dir, run);
    await mkdir(folder, { recursive: true });
    const file = join(folder, `${instanceToken(p.instance)}.json`);
    const tmp = `${file}.${process.pid}.${++this.seq}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...p, writer: WRITER }));
    await rename(tmp, file);
    this.onPut?.(p.runId);
  }

  async remove(p: Pick<LiveProgress, 'runId' | 'instance' | 'attempt'>): Promise<void> {
    const run = safe(p.runId);
    if (run === null) return;
    const folder = join(this.dir, run);
    const file = join(folder, `${instanceToken(p.instance)}.json`);
    // Only this attempt's value: a later attempt of the same instance may have written its own meanwhile.
    const now = await readJson(file);
    if (now !== null && isLiveProgress(now) && now.attempt !== p.attempt) return;
    await rm(file, { force: true });
    // The run's folder goes with its last file (another attempt writing now makes it again).
    await rmdir(folder).catch(() => undefined);
  }

  async read(runId: string): Promise<LiveProgress[]> {
    const run = safe(runId);
    if (run === null) return [];
    const folder = join(this.dir, run);
    const names = await readdir(folder).catch(() => [] as string[]);
    const out: LiveProgress[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const v = await readJson(join(folder, name));
      if (!isLiveProgress(v) || v.runId !== runId || diedHere((v as { writer?: unknown }).writer)) continue;
      const { writer: _mark, ...value } = v as LiveProgress & { writer?: unknown };
      out.push(value);
    }
    return out;
  }

  watch(runId: string, onChange: ProgressListener): () => void {
    const run = safe(runId);
    if (run === null) {
      queueMicrotask(() => onChange([]));
      return () => undefined;
    }
    return watchFolder(this.dir, run, () => this.read(runId), onChange);
  }

  async sweep(runId: string, before = Date.now()): Promise<void> {
    const run = safe(runId);
    if (run === null) return;
    const folder = join(this.dir, run);
    // Most runs never report progress: no folder, told by a stat that costs no failed call and no error object (every
    // run settling asked for a listing and a removal that both failed: 4% of the file store's CPU per run).
    if (!statSync(folder, { throwIfNoEntry: false })) return;
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const file = join(folder, name);
      // A file written since (an attempt of a retry begun meanwhile) is that attempt's: it stays.
      const s = await stat(file).catch(() => null);
      if (s && s.mtimeMs < before) await rm(file, { force: true }).catch(() => undefined);
    }
    await rmdir(folder).catch(() => undefined);
  }

  /** The runs that have a progress folder (the sweeps' list: names only, nothing read). */
  async runs(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => safe(n) !== null);
  }
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
}
