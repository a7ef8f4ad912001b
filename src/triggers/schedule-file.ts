/**
 * The embedded store's schedule cursors: `<store>/schedules.json`, written atomically (a temporary file renamed over
 * it) so a crash leaves the old file or the new one, never half of one. One firer per store (`serve` holds the store's
 * serve lock; `schedules pause|trigger|backfill` write it too, under the file's own lock); within the process writes
 * are serialised. Read with zod at the boundary: a file that does not parse is refused with its path, not silently
 * reset (that would re-decide every catch-up). Parsed once per version of the file (its stat), and writes queued
 * together are saved together (group commit), so a tick over many schedules stays linear.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { LoadedDefinition } from '../files/index.js';
import type { Engine } from '../local/index.js';
import { unlessMissing, withLock } from '../store/index.js';
import { parseJsonFile } from './json-file.js';
import { controlSchedules, type ScheduleAction, type ScheduleActionResult } from './schedule-control.js';
import { Scheduler } from './scheduler.js';
import { ScheduleCursorEntrySchema, type ScheduleCursor, type ScheduleCursorEntry } from './schedule-cursor.js';
import { engineStarter, type StartScheduled } from './scheduled-start.js';

const FileSchema = z.object({
  version: z.literal(1),
  revision: z.number().int().nonnegative(),
  schedules: z.record(
    z.string(),
    z.object({ revision: z.number().int().positive(), entry: ScheduleCursorEntrySchema }),
  ),
});
type CursorFile = z.infer<typeof FileSchema>;

const SCHEDULES_FILE = 'schedules.json';

export function scheduleCursorFile(storeDir: string): string {
  return join(storeDir, SCHEDULES_FILE);
}

/** A pending read-modify-write: applied to the file's data in order; its result once a save holding it is done. */
interface Op {
  apply: (data: CursorFile) => number | null;
  resolve: (r: number | null) => void;
  reject: (err: unknown) => void;
}

export class FileScheduleCursor implements ScheduleCursor {
  /** The file as last read or written here, and the stat it had then (inode, size, mtime): read again only when that changed. */
  private cached: { stamp: string; data: CursorFile } | null = null;
  private queue: Op[] = [];
  private flushing = false;
  constructor(readonly file: string) {}

  /** What identifies one version of the file: every save is a new file renamed over it (a new inode). null: no file. */
  private async stampOf(path = this.file): Promise<string | null> {
    const s = await unlessMissing(stat(path, { bigint: true }));
    return s === null ? null : `${s.ino}:${s.size}:${s.mtimeNs}`;
  }

  /**
   * The file's data, parsed and checked once per version of the file (a tick asks for every schedule's entry: with a
   * thousand schedules, parsing the whole file per entry made each tick quadratic). Never mutate it.
   */
  private async load(): Promise<CursorFile> {
    const stamp = await this.stampOf();
    if (stamp === null) return { version: 1, revision: 0, schedules: {} };
    if (this.cached?.stamp === stamp) return this.cached.data;
    const text = await unlessMissing(readFile(this.file, 'utf8'));
    if (text === null) return { version: 1, revision: 0, schedules: {} };
    const data = parseJsonFile(
      this.file,
      text,
      FileSchema,
      'LF_SCHEDULES_FILE',
      'a schedules file',
      'move it aside to let every schedule start from now again',
    );
    // Cached under the stat taken before the read: if the file was replaced in between, the next stat differs and it is read again.
    this.cached = { stamp, data };
    return data;
  }

  private async save(data: CursorFile): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`);
    const stamp = await this.stampOf(tmp); // the inode, size and mtime move with the rename
    await rename(tmp, this.file);
    this.cached = stamp === null ? null : { stamp, data };
  }

  /**
   * Read-modify-writes, one batch at a time in this process: the ops queued while a save is under way are applied
   * together, in order, to one read of the file and saved once (a group commit: each resolves only after a save holding
   * it, so none is answered before it is on disk).
   */
  private enqueue(apply: Op['apply']): Promise<number | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ apply, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const ops = this.queue;
        this.queue = [];
        try {
          // Under the file's lock: `schedules pause|trigger|backfill` write it from other processes while serve ticks.
          await mkdir(dirname(this.file), { recursive: true });
          const results = await withLock(`${this.file}.lock`, { timeoutMs: 10_000, staleMs: 30_000 }, async () => {
            const current = await this.load();
            const data: CursorFile = { ...current, schedules: { ...current.schedules } };
            const results = ops.map((op) => op.apply(data));
            if (results.some((r) => r !== null)) await this.save(data);
            return results;
          });
          ops.forEach((op, i) => op.resolve(results[i]!));
        } catch (err) {
          for (const op of ops) op.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  async get(key: string) {
    const e = (await this.load()).schedules[key];
    return e ? { entry: structuredClone(e.entry), revision: e.revision } : null;
  }

  create(key: string, entry: ScheduleCursorEntry): Promise<number | null> {
    return this.enqueue((data) => {
      if (data.schedules[key]) return null;
      const revision = ++data.revision;
      data.schedules[key] = { revision, entry: structuredClone(entry) };
      return revision;
    });
  }

  update(key: string, entry: ScheduleCursorEntry, expected: number): Promise<number | null> {
    return this.enqueue((data) => {
      if (data.schedules[key]?.revision !== expected) return null;
      const revision = ++data.revision;
      data.schedules[key] = { revision, entry: structuredClone(entry) };
      return revision;
    });
  }

  async all(): Promise<Map<string, ScheduleCursorEntry>> {
    return new Map(Object.entries((await this.load()).schedules).map(([k, v]) => [k, structuredClone(v.entry)]));
  }
}

/**
 * A person's schedule action on the embedded store (docs/operations.md#schedules): written to
 * `<storeDir>/schedules.json`, and what it queues started here at once (recorded on `engine`'s store; serve
 * drives what does not settle as it starts). Who may is the caller's to judge (L1, `schedules`).
 */
export function embeddedScheduleAction(
  opts: {
    storeDir: string;
    engine: Engine;
    definitions: readonly LoadedDefinition[];
    started?: (runId: string) => void;
  },
  action: ScheduleAction,
): Promise<ScheduleActionResult> {
  const scheduler = embeddedScheduler({
    storeDir: opts.storeDir,
    engine: opts.engine,
    definitions: () => opts.definitions,
    ...(opts.started ? { started: opts.started } : {}),
  });
  return controlSchedules(
    {
      cursor: new FileScheduleCursor(scheduleCursorFile(opts.storeDir)),
      definitions: opts.definitions.map((l) => l.definition),
      hasRun: async (id) => (await opts.engine.store.lastSeq(id)) > 0,
      startQueued: (wf, now) => scheduler.startQueued(now, wf),
    },
    action,
  );
}

function counted(start: StartScheduled, started: ((runId: string) => void) | undefined): StartScheduled {
  if (!started) return start;
  return async (s) => {
    const r = await start(s);
    started(s.runId);
    return r;
  };
}

/**
 * The embedded store's Scheduler, ready for `serve` to call every tick: `await scheduler.fireDue(Date.now())`. Cursor
 * `<storeDir>/schedules.json`; runs are recorded on `engine`'s store under their slot's run id with the definition's
 * file and handler module in run.started (as `emit` records them), and driven by whoever drives unsettled runs (serve).
 */
export function embeddedScheduler(opts: {
  storeDir: string;
  engine: Engine;
  /** The definitions whose schedules fire (e.g. loadTriggerCatalog().loaded), asked every tick. */
  definitions: () => readonly LoadedDefinition[];
  log?: (line: string) => void;
  graceMs?: number;
  /** Told each run id a slot started (or found started): a backfill's progress. */
  started?: (runId: string) => void;
}): Scheduler {
  // The file and handlers of each definition, for the run.started of its slots: rebuilt only when the list is another one.
  let list: readonly LoadedDefinition[] | null = null;
  let index = new Map<LoadedDefinition['definition'], LoadedDefinition>();
  const byDefinition = () => {
    const now = opts.definitions();
    if (now !== list) {
      list = now;
      index = new Map(now.map((l) => [l.definition, l]));
    }
    return index;
  };
  return new Scheduler({
    cursor: new FileScheduleCursor(scheduleCursorFile(opts.storeDir)),
    definitions: () => [...byDefinition().keys()],
    start: counted(
      engineStarter(opts.engine, (def) => {
        const l = index.get(def);
        return l ? { file: l.file, ...(l.handlersPath ? { handlers: l.handlersPath } : {}) } : {};
      }),
      opts.started,
    ),
    name: `serve ${process.pid}`,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
  });
}
