/**
 * How the run index projection (jetstream-projection.ts) writes a run's value in KV LF_RUNS_INDEX: the value
 * after a commit (folded onto the one there, or rebuilt from the run's log), written with compare-and-set on the
 * key's revision, and the value and revision this engine last wrote remembered a few seconds so that the run's
 * next commit is written without reading the key first. Its own file: the projection's consumer loop (pulling,
 * coalescing a run's commits, acking) is the other file's job.
 */
import type { KV } from '@nats-io/kv';
import type { CompiledWorkflow } from '../compiler/index.js';
import { CorruptRunError } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import { compiledForRun, latestWorkflow } from '../runtime/index.js';
import type { BlobStore, JetStreamEventStore, KvCas } from '../store/index.js';
import { foldLoaded } from '../executor/index.js';
import { decodeValue, encodeValue, isCasConflict, type IndexValue } from './jetstream-bucket.js';
import {
  advance,
  canContinue,
  persistTracked,
  restoreTracked,
  track,
  type FoldedAfter,
  type TrackedRun,
} from './record.js';
import { trimOldest } from '../bounded.js';
import type { IndexSealer } from './record-values.js';

const MAX_ROUNDS = 10;

/** How long, and for how many runs, the projection remembers what it wrote (see `written`). */
const WRITTEN_KEPT_MS = 10_000;
const WRITTEN_KEPT = 10_000;

/** The projection's counts this writer moves (RunIndexProjection.stats). */
export interface WriterStats {
  applied: number;
  rebuilt: number;
  skipped: number;
  conflicts: number;
}

/**
 * The projection's writes of run values: `apply` a run's consecutive commits, `write` a value as it is (a commit that
 * does not parse), and `written`, what this engine last wrote of each run (forgotten when an apply fails).
 */
export function projectionWriter(
  store: JetStreamEventStore,
  stats: WriterStats,
  bucket: () => Promise<KV>,
  kvCas: KvCas,
  /** An encrypting store's (record-values.ts): with a key, the events are folded opened and the values written sealed. */
  sealer: IndexSealer | null = null,
  /** The large payloads (opened with the key where the store encrypts), for a fold that reads one (foldLoaded). */
  blobs?: BlobStore,
) {
  const opened = (runId: string, events: EventEnvelope[]) =>
    sealer?.key ? sealer.open(runId, events) : Promise.resolve(events);
  const compiledByHash = new Map<string, CompiledWorkflow>();

  /** The machine of a run's definition: remembered by hash, else read from the run's run.started. */
  const compiledOf = async (runId: string, hash: string): Promise<CompiledWorkflow | null> => {
    const known = compiledByHash.get(hash);
    if (known) return known;
    const [first] = await store.read(runId, { toSeq: 1 });
    if (!first || first.type !== 'run.started') return null;
    // A migrated run's definition is its latest run.migrated's (docs/runs.md#migrating-in-flight-runs).
    const compiled =
      first.data.definitionHash === hash ? compiledForRun(first) : latestWorkflow(await store.read(runId));
    if (compiled.hash !== hash) return null;
    if (compiledByHash.size > 100) compiledByHash.clear();
    compiledByHash.set(hash, compiled);
    return compiled;
  };

  const rebuild = async (runId: string): Promise<IndexValue | null> => {
    stats.rebuilt++;
    try {
      const events = await opened(runId, await store.read(runId));
      return events.length === 0 ? null : indexValueOf(await foldLoaded(blobs, () => track(events)), events[0]!);
    } catch (err) {
      if (!(err instanceof CorruptRunError)) throw err;
      return { corrupt: { runId, file: err.where, reason: err.reason } };
    }
  };

  /**
   * The value after this commit, or null when it is already in `had` (or the run is gone); with the tracked run it was
   * folded from, when it was (`mine`: the one this engine folded last, which spares restoring it from its stored form).
   */
  const next = async (
    runId: string,
    events: EventEnvelope[],
    had: IndexValue | null,
    mine?: TrackedRun,
    after?: FoldedAfter,
  ): Promise<{ value: IndexValue; tracked?: TrackedRun } | null> => {
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    if (had && 'record' in had) {
      if (had.record.lastSeq >= last) return null;
      if (had.record.lastSeq === first - 1 && canContinue(had)) {
        const compiled = mine ? null : had.fold ? await compiledOf(runId, had.definitionHash) : null;
        const t = mine ?? restoreTracked(had, compiled);
        if (t) {
          const tracked = await foldLoaded(blobs, () => advance(t, events, after));
          return { value: persistTracked(tracked, tracked.compiled?.hash ?? had.definitionHash), tracked };
        }
      }
    }
    if (had && 'record' in had) {
      const rebuilt = await rebuild(runId);
      return rebuilt ? { value: rebuilt } : null;
    }
    if (!had && first === 1 && events[0]!.type === 'run.started') {
      const tracked = await foldLoaded(blobs, () => track(events, after));
      return { value: indexValueOf(tracked, events[0]!), tracked };
    }
    const rebuilt = await rebuild(runId);
    return rebuilt ? { value: rebuilt } : null;
  };

  /**
   * The value and revision this engine last wrote for a run, kept a few seconds: the run's next
   * commit (mostly handled here too) is written at that revision without reading the key first. A
   * write that finds another revision reads the key, as without it.
   */
  const written = new Map<string, { value: IndexValue; revision: number; at: number; tracked?: TrackedRun }>();
  const remembered = (runId: string) => {
    const w = written.get(runId);
    if (w && Date.now() - w.at <= WRITTEN_KEPT_MS) return w;
    if (w) written.delete(runId);
    return undefined;
  };

  /** Applies one commit's events (or several consecutive commits' of one run, as one). */
  const apply = async (runId: string, given: EventEnvelope[], after?: FoldedAfter): Promise<void> => {
    const events = sealer?.key ? await sealer.open(runId, given) : given;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const mine = round === 0 ? remembered(runId) : undefined;
      let had: IndexValue | null;
      let revision: number | null;
      if (mine) {
        had = mine.value;
        revision = mine.revision;
      } else if (round === 0 && events[0]!.seq === 1) {
        // A run's first commit: its key is not there yet, so it is created without reading it first (one
        // request less per run). If it is there after all (a redelivery, another engine), the create fails
        // and the next round reads it.
        had = null;
        revision = null;
      } else {
        const entry = await (await bucket()).get(runId);
        had = entry && entry.operation === 'PUT' ? decodeValue(entry.string(), sealer) : null;
        revision = entry ? entry.revision : null;
      }
      const made = await next(runId, events, had, mine?.tracked, after);
      if (!made) {
        stats.skipped++;
        return;
      }
      const { value, tracked } = made;
      const rev = await cas(runId, value, revision);
      if (rev !== null) {
        stats.applied++;
        written.delete(runId);
        if (
          !('record' in value) ||
          value.record.status === 'RUNNING' ||
          value.record.status === 'WAITING' ||
          value.record.status === 'PAUSED' ||
          value.record.status === 'QUEUED'
        ) {
          written.set(runId, { value, revision: rev, at: Date.now(), ...(tracked ? { tracked } : {}) });
          trimOldest(written, WRITTEN_KEPT);
        }
        return;
      }
      written.delete(runId);
      stats.conflicts++;
    }
    throw new Error(`run ${runId}: its index value kept changing under ${MAX_ROUNDS} attempts`);
  };

  const write = async (runId: string, value: IndexValue) => {
    written.delete(runId);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await (await bucket()).get(runId);
      if ((await cas(runId, value, entry ? entry.revision : null)) !== null) return;
    }
  };

  /**
   * Writes at the revision read (null: the key must not exist); the new revision, or null when someone else wrote
   * first (or a deleted key's marker is there: the next round reads it). On the store's reply subscription (kv-cas.ts).
   */
  const cas = async (runId: string, value: IndexValue, revision: number | null): Promise<number | null> => {
    await bucket();
    try {
      return await kvCas.put(runId, encodeValue(value, sealer), revision);
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  };

  return { apply, write, written };
}

export function indexValueOf(t: TrackedRun, first: EventEnvelope): IndexValue {
  return persistTracked(t, t.compiled?.hash ?? (first.type === 'run.started' ? first.data.definitionHash : ''));
}
