/**
 * The embedded store's schedule cursors: `<store>/schedules.json`, written
 * atomically (a temporary file renamed over it) so a crash leaves the old
 * file or the new one, never half of one. One writer per store (`serve`
 * holds the store's serve lock); within the process writes are serialised.
 * Read with zod at the boundary: a file that does not parse is refused with
 * its path, not silently reset (that would re-decide every catch-up).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { LedgerflowError } from '../errors/index.js';
import type { LoadedDefinition } from '../api/index.js';
import type { Engine } from '../runtime/index.js';
import { engineStarter, ScheduleCursorEntrySchema, Scheduler, type ScheduleCursor, type ScheduleCursorEntry } from './scheduler.js';

const FileSchema = z.object({
  version: z.literal(1),
  revision: z.number().int().nonnegative(),
  schedules: z.record(z.string(), z.object({ revision: z.number().int().positive(), entry: ScheduleCursorEntrySchema })),
});
type CursorFile = z.infer<typeof FileSchema>;

export const SCHEDULES_FILE = 'schedules.json';

export function scheduleCursorFile(storeDir: string): string {
  return join(storeDir, SCHEDULES_FILE);
}

export class FileScheduleCursor implements ScheduleCursor {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(readonly file: string) {}

  private async load(): Promise<CursorFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, revision: 0, schedules: {} };
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new LedgerflowError('LF_SCHEDULES_FILE', `${this.file} is not JSON (${(err as Error).message}); move it aside to let every schedule start from now again`, { file: this.file });
    }
    const parsed = FileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new LedgerflowError('LF_SCHEDULES_FILE', `${this.file} is not a schedules file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}; move it aside to let every schedule start from now again`, { file: this.file });
    }
    return parsed.data;
  }

  private async save(data: CursorFile): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`);
    await rename(tmp, this.file);
  }

  /** One read-modify-write at a time in this process. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async get(key: string) {
    const e = (await this.load()).schedules[key];
    return e ? { entry: e.entry, revision: e.revision } : null;
  }

  create(key: string, entry: ScheduleCursorEntry): Promise<number | null> {
    return this.serial(async () => {
      const data = await this.load();
      if (data.schedules[key]) return null;
      const revision = ++data.revision;
      data.schedules[key] = { revision, entry };
      await this.save(data);
      return revision;
    });
  }

  update(key: string, entry: ScheduleCursorEntry, expected: number): Promise<number | null> {
    return this.serial(async () => {
      const data = await this.load();
      if (data.schedules[key]?.revision !== expected) return null;
      const revision = ++data.revision;
      data.schedules[key] = { revision, entry };
      await this.save(data);
      return revision;
    });
  }

  async all(): Promise<Map<string, ScheduleCursorEntry>> {
    return new Map(Object.entries((await this.load()).schedules).map(([k, v]) => [k, v.entry]));
  }
}

/**
 * The embedded store's Scheduler, ready for `serve` to call every tick:
 * `await scheduler.fireDue(Date.now())`. Cursor `<storeDir>/schedules.json`;
 * runs are recorded on `engine`'s store under their slot's run id with the
 * definition's file and handler module in run.started (as `emit` records
 * them), and driven by whoever drives unsettled runs (serve).
 */
export function embeddedScheduler(opts: {
  storeDir: string;
  engine: Engine;
  /** The definitions whose schedules fire (e.g. loadTriggerCatalog().loaded), asked every tick. */
  definitions: () => readonly LoadedDefinition[];
  log?: (line: string) => void;
  graceMs?: number;
}): Scheduler {
  const byDefinition = () => new Map(opts.definitions().map((l) => [l.definition, l]));
  let index = byDefinition();
  return new Scheduler({
    cursor: new FileScheduleCursor(scheduleCursorFile(opts.storeDir)),
    definitions: () => { index = byDefinition(); return [...index.keys()]; },
    start: engineStarter(opts.engine, (def) => {
      const l = index.get(def);
      return l ? { file: l.file, ...(l.handlersPath ? { handlers: l.handlersPath } : {}) } : {};
    }),
    name: `serve ${process.pid}`,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
  });
}
