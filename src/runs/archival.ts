/**
 * Which settled runs go to the archive, and moving them in bounded batches (docs/retention.md): `archive
 * --older-than` by hand, and the rounds `serve` runs as it goes, by each run's `retention:` (its definition's, as
 * recorded when it started) or the store's default. The move itself is the store's (EventStore.archive): the bytes
 * as stored, crash-safe.
 */
import { DataKeyError, errorMessage, StoreError } from '../errors/index.js';
import { recordedDefinitionOf, SETTLED_STATUSES } from '../events/index.js';
import {
  FileEventStore,
  type ArchivedRun,
  type ArchiveOptions,
  type EventStore,
  type RunArchive,
  type RunSummary,
  storeAtRest,
} from '../store/index.js';
import { FileProgressChannel } from '../progress/index.js';
import { readWithoutKey } from '../encryption/index.js';
import { refsIn } from '../executor/index.js';

/** Runs moved per batch: one gzip member, one hold of the writer lock (appends wait that long). */
export const ARCHIVE_BATCH = 200;

export interface ArchiveSelection {
  /** Settled longer ago than this (ms); absent: by each run's retention, else `defaultRetentionMs`, else kept. */
  olderThanMs?: number;
  defaultRetentionMs?: number;
  workflowId?: string;
  now: Date;
  /** At most this many runs moved (a round of serve's); default all. */
  max?: number;
  /** Runs moved per batch (default ARCHIVE_BATCH). */
  batch?: number;
  /** After each batch: runs moved so far, of how many chosen. */
  onProgress?: (moved: number, chosen: number) => void;
  /**
   * A run due that stays live, with why: its values are sealed with a data key this process does not have (or do not
   * open with it), so the large payloads it refers to cannot be seen and kept with it. The others move all the same.
   */
  onLeft?: (runId: string, reason: string) => void;
  /** What went wrong after the move and changes nothing of it (a progress folder left behind); default: a process warning. */
  onWarning?: (message: string) => void;
}

/** The store's archive, or a clear error when the store has none. */
export function archiveOf(store: EventStore): RunArchive {
  const archive = store.archive?.();
  if (!archive) throw new StoreError('this store keeps no archive (the file store and JetStream do)', {});
  return archive;
}

/** Moves the settled runs the selection names to the archive; returns them. */
export async function archiveRuns(store: EventStore, sel: ArchiveSelection): Promise<ArchivedRun[]> {
  const archive = archiveOf(store);
  const chosen = await chooseRuns(store, sel);
  const max = sel.max ?? Number.MAX_SAFE_INTEGER;
  const of = Math.min(chosen.length, max);
  const moved: ArchivedRun[] = [];
  const batch = sel.batch ?? ARCHIVE_BATCH;
  const attachments = blobsHeld(store, sel.onLeft ?? (() => undefined));
  // Past the runs left live, on to the next due ones: a few runs nobody can open never stall retention for the rest.
  for (let i = 0; i < chosen.length && moved.length < max; ) {
    const next = chosen.slice(i, i + Math.min(batch, max - moved.length));
    i += next.length;
    moved.push(...(await archive.archive(next, sel.now, { attachments })));
    sel.onProgress?.(moved.length, of);
  }
  await sweepProgress(store, moved, sel.onWarning ?? ((m) => process.emitWarning(m, 'LedgerflowArchiveWarning')));
  if (chosen.length === 0) await archive.recover(); // a move a killed process left is finished all the same
  return moved;
}

/**
 * The large payloads' bodies a run refers to, recorded with it in the archive so that blob GC keeps them while the run
 * is archived. Read through the store (its values opened with the data key: a reference may sit in a sealed output).
 * A process with no key at all is refused; a run sealed with a key this process does not have (gone since a rotation)
 * stays live, told to `left`, as its references cannot be seen, and the others move.
 */
function blobsHeld(
  store: EventStore,
  left: (runId: string, reason: string) => void,
): NonNullable<ArchiveOptions['attachments']> {
  return async (runId) => {
    let refs: ReturnType<typeof refsIn>;
    try {
      refs = refsIn(await store.read(runId));
    } catch (err) {
      if (!(err instanceof DataKeyError)) throw err;
      left(runId, `${err.message} (docs/security.md); it stays live until then`);
      return null;
    }
    // No key at all: the process is not set up for sealed runs, refused as a whole (docs/retention.md).
    if (readWithoutKey(store, runId))
      throw new DataKeyError(
        'LF_DATA_KEY_MISSING',
        `run ${runId} holds values encrypted at rest and this process has no data key: archive it from a process that has LF_DATA_KEY (docs/security.md), so the payloads it refers to are kept with it`,
        { runId },
      );
    const seen = new Map<string, number>();
    for (const r of refs) seen.set(r.digest, r.size);
    return seen.size > 0 ? [...seen].map(([digest, size]) => ({ digest, size })) : undefined;
  };
}

/** The settled runs due, oldest settled first. */
async function chooseRuns(store: EventStore, sel: ArchiveSelection): Promise<RunSummary[]> {
  const now = sel.now.getTime();
  // A corrupt run is left where it is: `list` and `status` report it.
  const runs = await store.listRuns({
    ...(sel.workflowId !== undefined ? { workflowId: sel.workflowId } : {}),
    onCorrupt: () => undefined,
  });
  const settled = runs.filter((r) => r.completedAt !== null && SETTLED_STATUSES.includes(r.status));
  const retentionOf = retentions(store);
  const due: RunSummary[] = [];
  // By retention (a round's, not `--older-than`'s), a restored run's is counted from its restore: brought back to be
  // read, it is not moved again by the next round (docs/retention.md).
  let restores: ReadonlyMap<string, string> | undefined;
  for (const r of settled) {
    const keepMs = sel.olderThanMs ?? (await retentionOf(r)) ?? sel.defaultRetentionMs;
    if (keepMs === undefined || Date.parse(r.completedAt!) > now - keepMs) continue;
    if (sel.olderThanMs === undefined) {
      restores ??= await archiveOf(store).restores();
      const restoredAt = restores.get(r.runId);
      if (restoredAt !== undefined && Date.parse(restoredAt) > now - keepMs) continue;
    }
    due.push(r);
  }
  return due.sort((a, b) => a.completedAt!.localeCompare(b.completedAt!) || a.runId.localeCompare(b.runId));
}

/** A run's `retention:` as its definition recorded it, read once per workflow version. */
function retentions(store: EventStore): (run: RunSummary) => Promise<number | undefined> {
  const known = new Map<string, number | undefined>();
  return async (run) => {
    const key = `${run.workflowId}@${run.version}`;
    if (!known.has(key)) {
      // As stored: the definition is clear, the input beside it may be sealed with a key this process lacks.
      const first = (await storeAtRest(store).read(run.runId, { toSeq: 1 }))[0];
      known.set(key, first?.type === 'run.started' ? recordedDefinitionOf(first.data).retentionMs : undefined);
    }
    return known.get(key);
  };
}

export interface ArchivalRounds {
  /** The store's default retention (`--retention`), for runs whose definition has none. */
  defaultRetentionMs?: number;
  /** How long between two rounds that found less than a batch (default 1 minute). */
  everyMs?: number;
  say: (line: string) => void;
}

/**
 * A tick hook for `serve` and the engines: archives the runs past their retention, at most one batch a round, the
 * next round at once when that batch was full (more are due), else `everyMs` later. Never two rounds at once.
 */
export function archivalRounds(store: EventStore, opts: ArchivalRounds): (now: Date) => Promise<void> {
  let next = 0;
  let running = false;
  // A run left live is tried again each round: said once a process, not every minute.
  const told = new Set<string>();
  // So is a round refused for the same reason as the last (a process without the data key: every round, the same).
  let refused = '';
  const onLeft = (runId: string, reason: string) => {
    if (told.has(runId)) return;
    if (told.size < 10_000) told.add(runId);
    opts.say(`archive: ${reason}`);
  };
  return async (now) => {
    if (running || now.getTime() < next) return;
    running = true;
    try {
      const moved = await archiveRuns(store, {
        now,
        max: ARCHIVE_BATCH,
        onLeft,
        onWarning: opts.say,
        ...(opts.defaultRetentionMs !== undefined ? { defaultRetentionMs: opts.defaultRetentionMs } : {}),
      });
      if (moved.length > 0)
        opts.say(`archived ${moved.length} settled run${moved.length === 1 ? '' : 's'} past their retention`);
      next = now.getTime() + (moved.length >= ARCHIVE_BATCH ? 0 : (opts.everyMs ?? 60_000));
      if (refused !== '') opts.say('archive: the rounds archive again');
      refused = '';
    } catch (err) {
      next = now.getTime() + (opts.everyMs ?? 60_000);
      const why = errorMessage(err);
      if (why !== refused) opts.say(`archive: ${why}; trying again at each round (said again when the reason changes)`);
      refused = why;
    } finally {
      running = false;
    }
  };
}

/**
 * An archived run's progress folder goes with it (the embedded store's; a crashed process may have left one). A folder
 * that cannot be removed leaves the move as it is (the run is archived): said, and `serve`'s progress sweeps
 * (local/progress-sweep.ts) try it again.
 */
async function sweepProgress(
  store: EventStore,
  moved: readonly ArchivedRun[],
  warn: (message: string) => void,
): Promise<void> {
  if (!(store instanceof FileEventStore) || moved.length === 0) return;
  const channel = FileProgressChannel.under(store.dir);
  for (const r of moved)
    await channel
      .sweep(r.runId)
      .catch((err: unknown) =>
        warn(
          `archive: run ${r.runId} is archived, but its progress folder stayed (${errorMessage(err)}); serve's progress sweeps remove it later`,
        ),
      );
}
