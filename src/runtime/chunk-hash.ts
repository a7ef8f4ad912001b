/**
 * The parts of the state hash (state-hash.ts) carried by the fold's persistent vectors, Merkle-style: each chunk of a
 * vector knows its entries' texts, their text joined (format 1 hashes it) and its digest (format 2 lists it); each
 * version of a vector knows format 2's line of its chunks' digests. Each is derived once, when first asked for, and
 * kept on the object it is derived from (persistent-vector.ts). Chunks and versions never change, so what they carry
 * stays true for as long as they live: nothing is looked up by identity, bounded, or cleared.
 *
 * A version made from another by replacing items (as each event makes its state from the one before) is derived from
 * that one's: only its chunks that are not the same objects are written again, and in them only the entries that are
 * not the same objects. Every chunk of a version something was derived from carries its ChunkHash, which is what makes
 * that possible.
 */
import { sha256Hex } from '../digest/index.js';
import { rememberedDigest } from './state-hash-cache.js';
import {
  chunkDerived,
  keepChunkDerived,
  VECTOR_CHUNK,
  type Derived,
  type PersistentVector,
} from '../compiler/index.js';

/** How the entries of one kind of vector are written into the state text. */
export interface EntryWriter<E> {
  /** What fixes an entry's text besides its object (a task table's shape: which id is at which index): what is derived is for this. */
  readonly owner: object;
  /** The entry's text, by its index in the whole vector. */
  entry(e: E, index: number): string;
}

/** A chunk's entries' texts, joined, where each starts, and its format-2 digest once asked for. */
class ChunkHash implements Derived {
  #digest: string | undefined = undefined;
  constructor(
    readonly key: object,
    /** The chunk's index in its vector (an entry's text may depend on where it is). */
    readonly at: number,
    /**
     * The entries' lengths: where a changed entry starts in `text` is summed from this one small array of small
     * integers, where reading the length of every entry before it read, in a long run, a cold string each. Not an
     * Int32Array: a chunk that changes copies it, and a typed array's copy allocates a buffer.
     */
    readonly lengths: readonly number[],
    /** The entries joined by commas: format 1's text of the chunk (less the comma before it), and what format 2 digests. */
    readonly text: string,
  ) {}

  /** The first 16 hex digits of sha256 over `text`, quoted: the chunk's entry in format 2's line. */
  get digest(): string {
    // A short run's chunk (its only one: the first) recurs in every run of its definition: remembered by its text
    // (state-hash-cache.ts). A long run's later chunks do not recur within it: each would be one more text held.
    return (this.#digest ??= this.at === 0 ? rememberedDigest(this.text, quotedDigest) : quotedDigest(this.text));
  }
}

/** A chunk's digest, quoted, as format 2's lines list it: the first 16 hex digits of its text's sha256. */
export const quotedDigest = (text: string): string => `"${sha256Hex(text).slice(0, 16)}"`;

/** On a version: every one of its chunks carries its ChunkHash (what format 1 asks; format 2 asks a DigestLine). */
class ChunksHashed implements Derived {
  constructor(readonly key: object) {}
}

/**
 * On a version: format 2's line of its chunks' digests, joined by commas (each digest is its chunk's, which
 * carries it: the line keeps no array of them, which a version made from this one would copy).
 */
class DigestLine extends ChunksHashed {
  constructor(
    key: object,
    /** The line; only ever replaced by the same text in one flat piece (flattenFrom). */
    private line: string,
    /**
     * The length every digest has (format 2's are all 18 characters), or -1 when they differ: where a changed digest
     * starts in the line is then `c * (width + 1)`, where summing the lengths before it read dozens of cold strings.
     */
    readonly width: number,
  ) {
    super(key);
  }

  get text(): string {
    return this.line;
  }

  /**
   * The line was written into `hashed` at `start`, and hashing made `hashed` one flat string: the line is kept as
   * a slice of it. The line itself was still the rope of slices and a digest the last change spliced it into, and
   * the next version's splice would copy it whole again. A short line (a digest or two) is left as it is.
   */
  flattenFrom(hashed: string, start: number): void {
    if (this.line.length >= MIN_SLICED_LINE) this.line = hashed.slice(start, start + this.line.length);
  }
}

const MIN_SLICED_LINE = 64;

/**
 * `text` with the part at `start` of `length` characters replaced: two slices and a concatenation, which V8 keeps
 * as a rope until the hash reads it, where joining a chunk's 64 entries again copied each of them.
 */
const replaced = (text: string, start: number, length: number, by: string): string =>
  text.slice(0, start) + by + text.slice(start + length);

/** Changed entries of a chunk replaced in its text one by one; past this many, the chunk is written afresh. */
const MAX_REPLACED = 8;

/**
 * The ChunkHash of chunk `at` of a vector: the one it carries, else derived from `before` (the chunk at the same
 * index in the version it was made from) when that carries one, else written whole; then carried.
 */
function chunkHash<E>(
  chunk: readonly E[],
  at: number,
  writer: EntryWriter<E>,
  before: readonly E[] | undefined,
): ChunkHash {
  const own = chunkDerived(chunk, writer.owner);
  if (own instanceof ChunkHash && own.at === at) return own;
  const prior = before !== undefined && before.length === chunk.length ? chunkDerived(before, writer.owner) : undefined;
  const hash =
    prior instanceof ChunkHash && prior.at === at
      ? changedFrom(prior, before!, chunk, writer)
      : written(chunk, at, writer);
  keepChunkDerived(chunk, hash);
  return hash;
}

function written<E>(chunk: readonly E[], at: number, writer: EntryWriter<E>): ChunkHash {
  const lengths = new Array<number>(chunk.length);
  let text = '';
  for (let i = 0; i < chunk.length; i++) {
    const entry = writer.entry(chunk[i]!, at * VECTOR_CHUNK + i);
    text += i > 0 ? `,${entry}` : entry;
    lengths[i] = entry.length;
  }
  return new ChunkHash(writer.owner, at, lengths, text);
}

/** `chunk`'s ChunkHash from `prior`, `before`'s: `prior` itself when no entry's text changed. */
function changedFrom<E>(
  prior: ChunkHash,
  before: readonly E[],
  chunk: readonly E[],
  writer: EntryWriter<E>,
): ChunkHash {
  let lengths: number[] | null = null;
  let text = prior.text;
  let changed = 0;
  // Where entry `summed` starts in the text, as the entries before it are now: summed up to a changed entry only.
  let start = 0;
  let summed = 0;
  const offset = prior.at * VECTOR_CHUNK;
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] === before[i]) continue;
    const entry = writer.entry(chunk[i]!, offset + i);
    const length = (lengths ?? prior.lengths)[i]!;
    for (; summed < i; summed++) start += (lengths ?? prior.lengths)[summed]! + 1;
    // The same text again (a change the state text does not show): only a text of the same length can be, and
    // only then is the old text read (in a long run, a cold string).
    if (entry.length === length && text.startsWith(entry, start)) continue;
    // Many changed entries (a cancelled run's): the chunk written afresh rather than spliced that many times.
    if (++changed > MAX_REPLACED) return written(chunk, prior.at, writer);
    lengths ??= prior.lengths.slice();
    text = replaced(text, start, length, entry);
    lengths[i] = entry.length;
  }
  return lengths === null ? prior : new ChunkHash(prior.key, prior.at, lengths, text);
}

/** Every chunk's ChunkHash (format 1), each carried by its chunk, the version marked as having them all. */
export function chunkHashes<E>(vector: PersistentVector<E>, writer: EntryWriter<E>): ChunkHash[] {
  const { chunks } = vector;
  const before = vector.derived(writer.owner) !== undefined ? undefined : earlierChunks(vector, writer);
  const hashes = new Array<ChunkHash>(chunks.length);
  for (let c = 0; c < chunks.length; c++) hashes[c] = chunkHash(chunks[c]!, c, writer, before?.[c]);
  if (vector.derived(writer.owner) === undefined) vector.keepDerived(new ChunksHashed(writer.owner));
  return hashes;
}

/** The chunks of the version `vector` was made from, when every one of them carries its ChunkHash. */
function earlierChunks<E>(vector: PersistentVector<E>, writer: EntryWriter<E>): readonly (readonly E[])[] | undefined {
  const earlier = vector.earlier();
  return earlier !== null &&
    earlier.derived(writer.owner) !== undefined &&
    earlier.chunks.length === vector.chunks.length
    ? earlier.chunks
    : undefined;
}

/** Format 2's line of `vector`'s chunk digests: the one it carries, else derived from the version it was made from; then carried. */
export function digestLine<E>(vector: PersistentVector<E>, writer: EntryWriter<E>): DigestLine {
  const own = vector.derived(writer.owner);
  if (own instanceof DigestLine) return own;
  const { chunks } = vector;
  const earlier = own === undefined ? vector.earlier() : null;
  const prior = earlier?.derived(writer.owner);
  const before = prior !== undefined && earlier!.chunks.length === chunks.length ? earlier!.chunks : undefined;
  const line =
    prior instanceof DigestLine && before !== undefined
      ? changedLine(prior, before, chunks, writer)
      : freshLine(chunks, before, writer);
  vector.keepDerived(line);
  return line;
}

function freshLine<E>(
  chunks: readonly (readonly E[])[],
  before: readonly (readonly E[])[] | undefined,
  writer: EntryWriter<E>,
): DigestLine {
  let text = '';
  let width = -1;
  for (let c = 0; c < chunks.length; c++) {
    const digest = chunkHash(chunks[c]!, c, writer, before?.[c]).digest;
    text += c > 0 ? `,${digest}` : digest;
    width = c === 0 ? digest.length : width === digest.length ? width : -2;
  }
  return new DigestLine(writer.owner, text, width < 0 ? -1 : width);
}

/** The line of `chunks` from `prior`, the line of `before`: only the chunks that are not the same objects are looked at. */
function changedLine<E>(
  prior: DigestLine,
  before: readonly (readonly E[])[],
  chunks: readonly (readonly E[])[],
  writer: EntryWriter<E>,
): DigestLine {
  let changed = false;
  let text = prior.text;
  let { width } = prior;
  for (let c = 0; c < chunks.length; c++) {
    const was = before[c]!;
    const chunk = chunks[c]!;
    if (chunk === was) continue;
    const hash = chunkHash(chunk, c, writer, was);
    // The same ChunkHash: no entry's text changed. Not the digests compared: that read the old one, a cold string in a long run.
    if (hash === chunkDerived(was, writer.owner)) continue;
    const digest = hash.digest;
    changed = true;
    if (width >= 0 && digest.length === width) text = replaced(text, c * (width + 1), width, digest);
    else {
      // Digests of other lengths (none of format 2's are): the line written again, from what each chunk carries.
      width = -1;
      text = '';
      for (let k = 0; k < chunks.length; k++)
        text += `${k > 0 ? ',' : ''}${chunkHash(chunks[k]!, k, writer, before[k]).digest}`;
    }
  }
  return changed ? new DigestLine(prior.key, text, width) : prior;
}
