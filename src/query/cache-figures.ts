/**
 * The index cache's figures line (version 7), `{"figures":{...}}` after the runs' lines: per workflow and version, the
 * tally (run-tally.ts) of the settled runs' lines and the newest of those runs. `stats` reads it with the runs in
 * flight and those made since (cache-tail.ts) instead of every settled record: at 100,000 settled runs the whole look
 * it took stat'ed and parsed every one (3 s). Written with the cache, from the same lines; a line that does not check
 * is no line (the whole look answers).
 */
import { z } from 'zod';
import type { RunRecord } from './record.js';
import { emptyTally, tallyRun, type RunTally } from './run-tally.js';
import { EXACT_MAX, sketchOf, type DurationSketch } from './duration-sketch.js';

/** One version's kept figures: its settled runs' tally and the newest of them (whose definition `stats` reads). */
export interface KeptVersion {
  tally: RunTally;
  newest: { runId: string; startedAt: string };
}
/** Per workflow, per version (its number as text). */
export type KeptFigures = Record<string, Record<string, KeptVersion>>;

/** The settled runs' records as a cache is written, tallied: `add` each record's JSON text, then `line()`. */
export class FiguresTally {
  private readonly kept = new Map<string, Map<number, KeptVersion>>();

  add(recordText: string): void {
    this.addRecord(JSON.parse(recordText) as RunRecord);
  }

  addRecord(r: RunRecord): void {
    let byVersion = this.kept.get(r.workflowId);
    if (!byVersion) this.kept.set(r.workflowId, (byVersion = new Map()));
    let v = byVersion.get(r.version);
    if (!v) byVersion.set(r.version, (v = { tally: emptyTally(), newest: { runId: r.runId, startedAt: r.startedAt } }));
    tallyRun(v.tally, r);
    // Settled lines come in start order; compared anyway, as the record set orders runs (start, then id).
    const n = v.newest;
    if (r.startedAt > n.startedAt || (r.startedAt === n.startedAt && r.runId > n.runId))
      v.newest = { runId: r.runId, startedAt: r.startedAt };
  }

  line(): Uint8Array {
    const figures: KeptFigures = {};
    for (const [w, byVersion] of this.kept) {
      const out: Record<string, KeptVersion> = {};
      for (const [v, k] of byVersion) out[String(v)] = k;
      figures[w] = out;
    }
    return Buffer.from(`${JSON.stringify({ figures })}\n`);
  }
}

const Count = z.number().int().nonnegative();
const SketchSchema = z
  .object({
    count: Count,
    sum: z.number(),
    max: z.number().nullable(),
    values: z.array(z.number()).max(EXACT_MAX).nullable(),
    buckets: z.record(z.string().regex(/^-?\d+$/), Count).nullable(),
  })
  .refine(
    (s) =>
      (s.values !== null && s.buckets === null && s.values.length === s.count) ||
      (s.values === null && s.buckets !== null),
    { message: 'a sketch keeps either every value (as many as its count) or its buckets' },
  );
/** The durations of a figures line: a sketch (duration-sketch.ts), or every value in a list as lines written before it were. */
const DurationsSchema = z.union([
  SketchSchema,
  z.array(z.number()).transform((values): DurationSketch => sketchOf(values)),
]);
const KeptVersionSchema = z.object({
  tally: z.object({
    total: Count,
    completed: Count,
    failed: Count,
    cancelled: Count,
    active: Count,
    durations: DurationsSchema,
    tasks: z.record(z.string(), z.tuple([Count, Count])),
    retries: z.record(z.string(), Count),
    runsWithRetries: Count,
  }),
  newest: z.object({ runId: z.string().min(1), startedAt: z.string() }),
});
const FiguresSchema = z.object({
  figures: z.record(z.string(), z.record(z.string().regex(/^\d+$/), KeptVersionSchema)),
});

/** The kept figures a figures line holds (null: not one that checks). */
export function keptFiguresOf(line: Uint8Array): KeptFigures | null {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  const got = FiguresSchema.safeParse(raw);
  return got.success ? (got.data.figures as KeptFigures) : null;
}
