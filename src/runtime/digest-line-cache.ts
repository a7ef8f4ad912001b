/**
 * Format 2's line of chunk digests (state-hash.ts), worked out from the line
 * the same run's previous state had. Checked replay and a live run hash the
 * states of one run in order, and one event changes one chunk or two: the
 * other chunks are the very same objects as in the state before, so their
 * digests are taken from the last line by position (a pointer comparison,
 * where looking each up by identity cost a WeakMap lookup per chunk per
 * event: 94 for a 3,000-task run), and a changed chunk re-writes only the
 * entries that are not the same objects as in its previous version.
 *
 * Only a cache of pure functions: a state whose line was not the last one
 * (another run hashed in between, a state hashed out of order) is hashed
 * through the caches of state-hash-cache.ts, with the same result.
 */
import { rememberedChunkDigest, rememberedEntryText } from './state-hash-cache.js';

/** What the line of one kind of chunk ('tasks' or 'value') was, for the last state hashed. */
interface Line {
  /** What fixes an entry's text besides its object (a task table's shape: which id is at which index). */
  readonly owner: object;
  readonly chunks: readonly (readonly object[])[];
  readonly digests: readonly string[];
  /** Each chunk's entry texts, when they were written (null: its digest came from the cache by identity). */
  readonly entries: readonly (readonly string[] | null)[];
  readonly text: string;
}

let enabled = true;
const lines = new Map<string, Line>();

/** How a kind of chunk is hashed: an entry's text (by its index in the whole vector), and a chunk's digest from its entries joined by commas. */
export interface ChunkHashing<E extends object> {
  /** What fixes an entry's text besides its object: lines of different owners share nothing. */
  readonly owner: object;
  /** The entry's text, and the key its text is remembered under with its object (state-hash-cache.ts). */
  readonly entry: (entry: E, index: number) => string;
  readonly key: (index: number) => string;
  readonly digest: (entriesText: string) => string;
}

/** The chunks' digests joined by commas, `chunkSize` entries per chunk. */
export function digestLine<E extends object>(kind: string, chunks: readonly (readonly E[])[], chunkSize: number, hashing: ChunkHashing<E>): string {
  const last = enabled ? lines.get(kind) : undefined;
  if (last !== undefined && last.chunks === chunks && last.owner === hashing.owner) return last.text;
  const aligned = last !== undefined && last.owner === hashing.owner && last.chunks.length === chunks.length;
  const digests: string[] = new Array<string>(chunks.length);
  const entries: (readonly string[] | null)[] = new Array<readonly string[] | null>(chunks.length);
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]!;
    const before = aligned ? (last.chunks[c] as readonly E[]) : undefined;
    if (before === chunk) {
      digests[c] = last!.digests[c]!;
      entries[c] = last!.entries[c]!;
      continue;
    }
    const beforeEntries = before !== undefined && before.length === chunk.length ? last!.entries[c] : null;
    if (beforeEntries === null || beforeEntries === undefined) {
      // Not known from the line before: by the chunk's identity (state-hash-cache.ts); its entries kept when they are written.
      let written: readonly string[] | null = null;
      digests[c] = rememberedChunkDigest(chunk, (ch) => {
        const texts = ch.map((e, i) => rememberedEntryText(e, hashing.key(c * chunkSize + i), (x) => hashing.entry(x, c * chunkSize + i)));
        written = texts;
        return hashing.digest(texts.join(','));
      });
      entries[c] = written;
      continue;
    }
    const written: string[] = new Array<string>(chunk.length);
    for (let i = 0; i < chunk.length; i++) written[i] = chunk[i] === before![i] ? beforeEntries[i]! : hashing.entry(chunk[i]!, c * chunkSize + i);
    entries[c] = written;
    digests[c] = hashing.digest(written.join(','));
  }
  const text = digests.join(',');
  if (enabled) lines.set(kind, { owner: hashing.owner, chunks, digests, entries, text });
  return text;
}

export function clearDigestLines(): void {
  lines.clear();
}

/** Off: every call computes afresh (for tests that check the caches change no result). */
export function setDigestLinesEnabled(on: boolean): void {
  enabled = on;
  lines.clear();
}
