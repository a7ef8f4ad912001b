/**
 * Under which mark of the store (store/change-mark.ts) the state file was last written whole, so that a process that
 * opens the store only to read (`status`, `list`, `history`) does not rebuild the file from every run's log when
 * nothing changed since: at 10,000 runs that rebuild took seconds, every time, in a folder with `.3ox/`.
 *
 * The record is written with the file, under the store's `state-file` lock, and names the store's mark read before the
 * write listed the runs, the file's own stamp (size and mtime: a file edited or removed by hand is written again) and
 * the number of settled runs kept. A write made while one of this process's appends was in flight records nothing (the
 * append may be in the journal and not yet in the file); neither does a write that failed. So a record that matches
 * the store and the file now says the file holds every commit made.
 *
 * Kept in the store (`<store>/state-files/<hash>.json`), not in `.3ox/`: it is the store's business, and one store can
 * feed state files in several folders.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { WorkflowStatus } from '../events/index.js';
import { storeChangeMark, storeChangeMarkListing, unlessMissing, type RunSummary } from '../store/index.js';

/** Runs the record lists at most (what the file showed): past that, a process starting to write lists the store. */
const SHOWN_AT_MOST = 2_000;

/** The record as read back (it is a file anyone could edit): anything else is no record, and the file is written. */
const Recorded = z.object({
  path: z.string(),
  keep: z.number().int().nonnegative(),
  store: z.string(),
  file: z.string(),
  /** The runs the write showed (its runs not settled, its newest settled), when they were few enough. */
  shown: z
    .array(
      z.looseObject({
        runId: z.string(),
        workflowId: z.string(),
        version: z.number().int(),
        status: WorkflowStatus,
        startedAt: z.string(),
        completedAt: z.string().nullable(),
        lastSeq: z.number().int(),
      }),
    )
    .optional(),
});
type Recorded = z.infer<typeof Recorded>;

/** A record that matches the store and the file as they are now. */
export interface UpToDate {
  /** The runs the file shows, as their summaries (absent when there were too many to record). */
  shown?: RunSummary[];
  /** Every run of the store, as the mark's listing of them found it. */
  ids: string[];
}

export class StateFileMarks {
  private readonly recordPath: string;

  constructor(
    private readonly storeDir: string,
    private readonly path: string,
    private readonly write: (path: string, text: string) => Promise<void>,
  ) {
    const id = createHash('sha256').update(path).digest('hex').slice(0, 16);
    this.recordPath = join(storeDir, 'state-files', `${id}.json`);
  }

  /** The store's mark now (read it before a write lists the runs). */
  storeMark(): Promise<string> {
    return storeChangeMark(this.storeDir);
  }

  /**
   * Records that the file, as it is now, was written from the store under `mark` (null: not known, nothing recorded),
   * keeping `keep` settled runs; with `onlyIf`, only when the file's stamp is still that one (a write that found nothing
   * new: the file must be the one the writer left, not another process's since). Returns the file's stamp when it is the
   * writer's, null when that is not known.
   */
  async record(
    mark: string | null,
    keep: number,
    shown: readonly RunSummary[],
    onlyIf?: string | null,
  ): Promise<string | null> {
    const file = await this.fileStamp();
    if (file === null || (onlyIf !== undefined && onlyIf !== file)) return null;
    if (mark === null) return file;
    const r = {
      path: this.path,
      keep,
      store: mark,
      file,
      ...(shown.length <= SHOWN_AT_MOST ? { shown: [...shown] } : {}),
    };
    await mkdir(dirname(this.recordPath), { recursive: true });
    await this.write(this.recordPath, JSON.stringify(r));
    return file;
  }

  /** The record when the file, as it is now, was written from the store as it is now (keeping `keep`): nothing to write. */
  async upToDate(keep: number): Promise<UpToDate | null> {
    const text = await unlessMissing(readFile(this.recordPath, 'utf8'));
    if (text === null) return null;
    let r: Recorded;
    try {
      r = Recorded.parse(JSON.parse(text));
    } catch {
      return null; // torn or edited: written again
    }
    if (r.path !== this.path || r.keep !== keep) return null;
    // The runs listed once, for the mark and for the writer that starts from them.
    const now = await storeChangeMarkListing(this.storeDir);
    if (r.store !== now.mark || r.file !== (await this.fileStamp())) return null;
    return { ids: now.ids, ...(r.shown ? { shown: r.shown as unknown as RunSummary[] } : {}) };
  }

  private async fileStamp(): Promise<string | null> {
    const st = await unlessMissing(stat(this.path, { bigint: true }));
    return st ? `${st.ino}:${st.size}:${st.mtimeNs}` : null;
  }
}
