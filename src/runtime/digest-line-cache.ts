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

/**
 * What the line of one kind of chunk ('tasks' or 'value') was, for the last
 * state hashed. Changed in place as the next state of the same run is hashed
 * (only the last line is ever kept), so an event allocates only the texts
 * it changes, not arrays of every chunk's digest.
 */
interface Line {
  /** What fixes an entry's text besides its object (a task table's shape: which id is at which index). */
  readonly owner: object;
  chunks: readonly (readonly object[])[];
  readonly digests: string[];
  /** Each chunk's entry texts, when they were written (null: its digest came from the cache by identity). */
  readonly entries: (string[] | null)[];
  /**
   * Each chunk's entries' lengths, where its entries are known: where a changed entry starts in its chunk's text is
   * summed from these (one small array), where reading the entries' own lengths read, in a long run, a cold string
   * for each entry before it.
   */
  readonly lengths: (Int32Array | null)[];
  /** Each chunk's text (its entries joined by commas), where its entries are known. */
  readonly texts: (string | null)[];
  /** The digests joined by commas. */
  text: string;
  /**
   * The length every digest has (format 2's are all 18 characters), or -1 when they differ: where a changed
   * digest starts in `text` is then `c * (width + 1)`, where summing the lengths before it read, in a long run,
   * dozens of cold strings per event (each digest was made at a different event).
   */
  width: number;
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

/**
 * `text` with the part at `start` of `length` characters replaced: two
 * slices and a concatenation, which V8 keeps as a rope until the hash reads
 * it, where joining a chunk's 64 entries again copied each of them.
 */
const replaced = (text: string, start: number, length: number, by: string): string => text.slice(0, start) + by + text.slice(start + length);

/** Changed entries of a chunk replaced in its text one by one; past this many, the text is joined afresh. */
const MAX_REPLACED = 8;

/** The lengths of `items`. */
function lengthsOf(items: readonly string[]): Int32Array {
  const lengths = new Int32Array(items.length);
  for (let i = 0; i < items.length; i++) lengths[i] = items[i]!.length;
  return lengths;
}

/** Where item `i` of `items` starts in `items.join(',')`. */
function offsetIn(items: readonly string[], i: number): number {
  let at = i;
  for (let k = 0; k < i; k++) at += items[k]!.length;
  return at;
}

/** The chunks' digests joined by commas, `chunkSize` entries per chunk. */
export function digestLine<E extends object>(kind: string, chunks: readonly (readonly E[])[], chunkSize: number, hashing: ChunkHashing<E>): string {
  const last = enabled ? lines.get(kind) : undefined;
  if (last === undefined || last.owner !== hashing.owner || last.chunks.length !== chunks.length) return freshLine(kind, chunks, chunkSize, hashing);
  if (last.chunks === chunks) return last.text;
  for (let c = 0; c < chunks.length; c++) {
    const before = last.chunks[c] as readonly E[];
    const chunk = chunks[c]!;
    if (before === chunk) continue;
    const digest = changedChunkDigest(last, c, before, chunk, chunkSize, hashing);
    // Not compared with the digest it replaces: a new digest of a changed text differs, and comparing two strings
    // of the same length read the old one (a cold string in a long run); the same text is said by null.
    if (digest === null) continue;
    const { width } = last;
    const at = width >= 0 ? c * (width + 1) : offsetIn(last.digests, c);
    last.text = replaced(last.text, at, width >= 0 ? width : last.digests[c]!.length, digest);
    last.digests[c] = digest;
    if (digest.length !== last.width) last.width = -1;
  }
  last.chunks = chunks;
  return last.text;
}

/**
 * Chunk `c`'s digest, now `chunk` where it was `before`: only the entries that are not the same objects are written
 * again. null when its text is the same as before (every changed entry wrote the same text).
 */
function changedChunkDigest<E extends object>(line: Line, c: number, before: readonly E[], chunk: readonly E[], chunkSize: number, hashing: ChunkHashing<E>): string | null {
  const written = line.entries[c];
  let text = line.texts[c];
  if (written === null || written === undefined || text === null || text === undefined || before.length !== chunk.length) {
    const known = knownChunkDigest(chunk, c, chunkSize, hashing);
    line.entries[c] = known.entries;
    line.texts[c] = known.text;
    line.lengths[c] = null;
    return known.digest;
  }
  let changed = 0;
  // Where entry `summed` starts in the chunk's text, as the entries before it are now: summed up to a changed entry only
  // when there is one (reading every entry's length, in a long run a cold string each, cost more than the comparisons).
  let at = 0;
  let summed = 0;
  const lengths = line.lengths[c] ?? (line.lengths[c] = lengthsOf(written));
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] === before[i]) continue;
    const entry = hashing.entry(chunk[i]!, c * chunkSize + i);
    // The same text again (a change the state text does not show): only a text of the same length can be; the
    // length known from `lengths` spares reading the old text, in a long run a cold string, when it differs.
    if (entry.length === lengths[i] && entry === written[i]) continue;
    // A few changed entries (an event changes one task or two): each replaced in the chunk's text; more, the text joined again.
    if (++changed <= MAX_REPLACED) {
      for (; summed < i; summed++) at += lengths[summed]! + 1;
      text = replaced(text, at, lengths[i]!, entry);
    }
    written[i] = entry;
    lengths[i] = entry.length;
  }
  if (changed === 0) return null;
  if (changed > MAX_REPLACED) text = written.join(',');
  line.texts[c] = text;
  return hashing.digest(text);
}

/** A chunk not known from the line before: by the chunk's identity (state-hash-cache.ts), its entries and text kept when they are written. */
function knownChunkDigest<E extends object>(chunk: readonly E[], c: number, chunkSize: number, hashing: ChunkHashing<E>): { digest: string; entries: string[] | null; text: string | null } {
  let entries: string[] | null = null;
  let text: string | null = null;
  const digest = rememberedChunkDigest(chunk, (ch) => {
    entries = ch.map((e, i) => rememberedEntryText(e, hashing.key(c * chunkSize + i), (x) => hashing.entry(x, c * chunkSize + i)));
    text = entries.join(',');
    return hashing.digest(text);
  });
  return { digest, entries, text };
}

/** The line of a run's first state hashed (or of another run's than the last): every chunk by identity. */
function freshLine<E extends object>(kind: string, chunks: readonly (readonly E[])[], chunkSize: number, hashing: ChunkHashing<E>): string {
  const digests: string[] = new Array<string>(chunks.length);
  const entries: (string[] | null)[] = new Array<string[] | null>(chunks.length);
  const texts: (string | null)[] = new Array<string | null>(chunks.length);
  const lengths: (Int32Array | null)[] = new Array<Int32Array | null>(chunks.length).fill(null);
  for (let c = 0; c < chunks.length; c++) {
    const known = knownChunkDigest(chunks[c]!, c, chunkSize, hashing);
    digests[c] = known.digest;
    entries[c] = known.entries;
    texts[c] = known.text;
  }
  const text = digests.join(',');
  let width = digests.length > 0 ? digests[0]!.length : -1;
  for (let c = 1; c < digests.length && width >= 0; c++) if (digests[c]!.length !== width) width = -1;
  if (enabled) lines.set(kind, { owner: hashing.owner, chunks, digests, entries, texts, lengths, text, width });
  return text;
}

/** Lines this long or longer are taken back from the hashed text (hashedLineAt); a short run's line of a digest or two is not. */
const MIN_SLICED_LINE = 64;

/**
 * The line of `kind`, just returned by digestLine, was written into `text` at `start`, and `text` was hashed (which
 * made it one flat string): the line is kept as a slice of it, which splices without being copied first, where the
 * line itself was still the rope of slices and digest it was spliced into (the hash copies what it reads, but leaves
 * the pieces of a string inside another as they are), and the next state's splice copied it whole again.
 */
export function hashedLineAt(kind: string, line: string, text: string, start: number): void {
  if (line.length < MIN_SLICED_LINE) return;
  const last = enabled ? lines.get(kind) : undefined;
  if (last !== undefined && last.text === line) last.text = text.slice(start, start + line.length);
}

export function clearDigestLines(): void {
  lines.clear();
}

/** Off: every call computes afresh (for tests that check the caches change no result). */
export function setDigestLinesEnabled(on: boolean): void {
  enabled = on;
  lines.clear();
}
