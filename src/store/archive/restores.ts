/**
 * When `restore` brought runs back (docs/retention.md). Archival's rounds count a restored run's retention from its
 * restore rather than from when it settled: a run brought back to be looked at is not moved again by the next round,
 * a minute later, but stays live for its retention once more. One small document a store (`<store>/archive/
 * restored.json`; the key `restores` of KV LF_ARCHIVE_INDEX), written under the archive's lock before the run is
 * brought back (an entry for a restore that was then rolled back changes nothing: the run is archived). Entries older
 * than the longest retention there is (365 days) count for nothing and are dropped as it is written, so it holds at
 * most a year of restores.
 */
import { z } from 'zod';
import { StoreError } from '../../errors/index.js';

/** Run id → when it was restored (ISO time). */
export type Restores = ReadonlyMap<string, string>;

/** A restore older than this can no longer keep a run live (retention is at most 365d). */
const KEPT_MS = 366 * 86_400_000;

const RestoresDoc = z.record(z.string().min(1), z.iso.datetime());

/** The document as stored (null: none yet); `where` names it in the error when it is not one. */
export function parseRestores(text: string | null, where: string): Restores {
  if (text === null || text === '') return new Map();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const doc = RestoresDoc.safeParse(json);
  if (!doc.success)
    throw new StoreError(
      `${where} is not a record of restored runs (run id → ISO time): remove it; restored runs then count their retention from when they settled`,
      { where },
    );
  return new Map(Object.entries(doc.data));
}

/** The document with `runId` restored at `at`, the restores too old to matter left out. */
export function withRestore(prev: Restores, runId: string, at: Date): string {
  const doc: Record<string, string> = {};
  const oldest = at.getTime() - KEPT_MS;
  for (const [id, when] of prev) if (Date.parse(when) >= oldest) doc[id] = when;
  doc[runId] = at.toISOString();
  return JSON.stringify(doc);
}
