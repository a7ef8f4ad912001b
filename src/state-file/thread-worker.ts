/**
 * The state-file writer's thread (thread.ts starts it): handed, at each write, the runs the file shows in its order,
 * with the entries and worksets of those it has not seen at that sequence, it renders the YAML (text.ts, the functions
 * a rebuild uses) and writes the worksets and the file, each atomically (a temporary file beside it, then a rename),
 * the file last. Synchronous file calls: this thread waits on the disk, neither the engine's thread nor the thread pool
 * the store's synced appends use. It imports text.ts alone (and yaml).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { entryText, fileText, temporaryOf, worksetFile, worksetsDir, worksetYaml } from './text.js';

/**
 * One write: the file's path and its runs in order; `entry` and `workset` only for a run not sent at `version` before
 * (its sequence, and the live progress its entry shows: thread.ts).
 */
export interface ThreadWrite {
  id: number;
  path: string;
  runs: { id: string; version: string; entry?: Record<string, unknown>; workset?: Record<string, unknown> }[];
}
/** `wrote`: the file was written (false: its text was what this thread wrote last). */
export type ThreadReply = { id: number; error?: string; wrote?: boolean };

/** What the thread knows between writes: each run's texts by the version they were made at, and what it wrote last. */
class ThreadFiles {
  private readonly texts = new Map<string, { version: string; entry: string; workset: string }>();
  private lastText: string | null = null;
  /** The worksets written last (run id → text); null: not known, so the next write lists the folder. */
  private lastWorksets: Map<string, string> | null = null;

  write(m: ThreadWrite): boolean {
    const blocks: string[] = [];
    const worksets = new Map<string, string>();
    for (const r of m.runs) {
      let t = this.texts.get(r.id);
      if (r.entry && r.workset)
        this.texts.set(r.id, (t = { version: r.version, entry: entryText(r.entry), workset: worksetYaml(r.workset) }));
      if (!t || t.version !== r.version)
        throw new Error(`the writer's thread has no entry of run ${r.id} at ${r.version}`);
      blocks.push(t.entry);
      worksets.set(r.id, t.workset);
    }
    for (const id of this.texts.keys()) if (!worksets.has(id)) this.texts.delete(id);
    const text = fileText(blocks);
    if (text === this.lastText) return false;
    const dir = worksetsDir(m.path);
    const last = this.lastWorksets;
    this.lastText = null; // a write that fails is written whole again at the next
    this.lastWorksets = null;
    if (worksets.size > 0) mkdirSync(dir, { recursive: true });
    for (const [runId, t] of worksets)
      if (last?.get(runId) !== t) writeAtomicallySync(join(dir, worksetFile(runId)), t);
    const gone = last
      ? [...last.keys()].filter((id) => !worksets.has(id)).map(worksetFile)
      : listed(dir).filter((f) => /^ws-.+\.yaml$/.test(f) && !worksets.has(f.slice(3, -5)));
    for (const f of gone) rmSync(join(dir, f), { force: true });
    // The state file last: a reader that sees it sees the worksets it names.
    mkdirSync(dirname(m.path), { recursive: true });
    writeAtomicallySync(m.path, text);
    this.lastText = text;
    this.lastWorksets = worksets;
    return true;
  }
}

function listed(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** writer.ts's writeAtomically, synchronous: a temporary file beside `path`, then a rename over it. */
function writeAtomicallySync(path: string, text: string): void {
  const tmp = temporaryOf(path);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

const files = new ThreadFiles();
parentPort?.on('message', (m: ThreadWrite) => {
  let reply: ThreadReply;
  try {
    reply = { id: m.id, wrote: files.write(m) };
  } catch (err) {
    reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply);
});
