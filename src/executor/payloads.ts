/**
 * Large payloads at the executors' edge (events/payload-ref.ts). The core reads a reference as its value through the
 * resolver installed here (expressions/payloads.ts): from the values loaded in this process (bounded by their bytes of
 * JSON), else read synchronously from a blob store on this machine (file, memory). A store without synchronous reads
 * (NATS) is read by `evaluateLoaded`: on the core's BlobNotLoadedError it loads the body and evaluates again (the core
 * is pure, so a second evaluation is the same one). Every body is checked against its digest by the store that reads
 * it (store/port.ts BlobStore.open, readSync); a reader here only says what refers to an altered one.
 */
import { BlobAlteredError, BlobMissingError, BlobNotLoadedError, NonRetryableError } from '../errors/index.js';
import { isPayloadRef, PAYLOAD_REF_KEY, type PayloadRef } from '../events/index.js';
import { installPayloadResolver } from '../expressions/index.js';
import { DEFAULT_INLINE_LIMIT } from '../definition/index.js';
import type { BlobStore } from '../store/index.js';
import { jsonBytes } from './json-chunks.js';
import { inTurns } from '../turns.js';

/** Bytes of JSON the loaded values may take together; the one loaded last is kept even when it alone is larger. */
const LOADED_BYTES = 256 * 1024 * 1024;
/** The stores a miss is read from synchronously: the few this process opened last. */
const MAX_SOURCES = 8;
const JSON_TYPE = 'application/json';

/**
 * Parsed values by digest, least recently read first. A digest names its bytes, so a value kept here is never stale:
 * what it changes is only how often a body is read, not any result.
 */
const loaded = new Map<string, { value: unknown; size: number }>();
let loadedBytes = 0;
/** Blob stores that read synchronously, most recent last (registered by whoever creates an executor). */
const sources = new Set<BlobStore>();

function remember(digest: string, value: unknown, size: number): void {
  if (loaded.has(digest)) return;
  loaded.set(digest, { value, size });
  loadedBytes += size;
  for (const [d, e] of loaded) {
    if (loadedBytes <= LOADED_BYTES || loaded.size === 1) break;
    loaded.delete(d);
    loadedBytes -= e.size;
  }
}

/** Forgets every loaded value (the next read of each reads its body again): for tests, and a process that must shed memory. */
export function forgetLoadedPayloads(): void {
  loaded.clear();
  loadedBytes = 0;
}

function cached(digest: string): { value: unknown } | undefined {
  const e = loaded.get(digest);
  if (!e) return undefined;
  loaded.delete(digest);
  loaded.set(digest, e);
  return e;
}

/** The value of a body (checked against its digest by the store that read it), kept loaded. */
function parseBody(ref: PayloadRef, bytes: Uint8Array): unknown {
  const value: unknown = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  remember(ref[PAYLOAD_REF_KEY].digest, value, bytes.byteLength);
  return value;
}

/**
 * A store's BlobAlteredError said of what refers to the body (`where`), by the first reader that knows it (the closest
 * to the read says it best); any other error as it is.
 */
function referredBy(err: unknown, where: string): unknown {
  return err instanceof BlobAlteredError && err.meta.where === null ? err.referredBy(where) : err;
}

function resolveLoaded(ref: PayloadRef): unknown {
  const { digest } = ref[PAYLOAD_REF_KEY];
  const hit = cached(digest);
  if (hit) return hit.value;
  // A body changed in the store is the store's BlobAlteredError, which the executor's edge names (evaluateLoaded).
  for (const s of [...sources].reverse()) {
    const bytes = s.readSync?.(digest);
    if (bytes) return parseBody(ref, bytes);
  }
  throw new BlobNotLoadedError(digest);
}

/**
 * Lets the core read references through `blobs` (a no-op without one): whoever creates an executor, or reads runs
 * the core folds, calls it. Idempotent; a store that reads synchronously is asked on a miss.
 */
export function usePayloads(blobs: BlobStore | undefined): void {
  installPayloadResolver(resolveLoaded);
  if (!blobs?.readSync) return;
  sources.delete(blobs);
  sources.add(blobs);
  for (const s of sources) if (sources.size > MAX_SOURCES) sources.delete(s);
}

/**
 * The whole body of a blob (null when the store has none), read as a stream: the store checks it against its digest
 * as it reads (BlobStore.open), so bytes changed in the store are BlobAlteredError, never handed out as the payload.
 */
export async function readBlob(blobs: BlobStore, digest: string): Promise<Uint8Array | null> {
  const body = await blobs.open(digest);
  if (!body) return null;
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Bodies read and parsed at once: each takes its bytes, its text and its value at the same time (three times its
 * size), so fifty runs reading 100 MB each wait their turn rather than hold 15 GB together. Reading one is CPU-bound
 * (hash, decode, parse): more at once than cores would not finish sooner.
 */
const LOADS_AT_ONCE = 2;
const underLoadLimit = inTurns(LOADS_AT_ONCE);
/** Loads under way by digest: runs reading the same body share one read. */
const inFlight = new Map<string, Promise<unknown>>();

/** The value a reference stands for, read from `blobs` (or this process's loaded values) and checked. */
export async function loadPayload(blobs: BlobStore, ref: PayloadRef, where = 'a run'): Promise<unknown> {
  const { digest } = ref[PAYLOAD_REF_KEY];
  const hit = cached(digest);
  if (hit) return hit.value;
  const pending = inFlight.get(digest);
  if (pending) return pending;
  const load = underLoadLimit(async () => {
    const again = cached(digest); // loaded while this one waited its turn
    if (again) return again.value;
    const bytes = await readBlob(blobs, digest).catch((err: unknown) => {
      throw referredBy(err, where);
    });
    if (!bytes) throw new BlobMissingError(digest, where);
    return parseBody(ref, bytes);
  }).finally(() => inFlight.delete(digest));
  inFlight.set(digest, load);
  return load;
}

/**
 * Runs a pure evaluation of the core (a fold, a step; or a read and its fold), loading each payload it reads that is
 * not loaded yet and running it again. Bounded: a run that reads more bodies at once than this process keeps fails with the core's error.
 * `where`: what reads the bodies (a template of which run), named by a BlobAlteredError.
 */
export async function evaluateLoaded<T>(
  blobs: BlobStore | undefined,
  evaluate: () => T | Promise<T>,
  where = 'a template',
  rounds = 32,
): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await evaluate();
    } catch (err) {
      if (!(err instanceof BlobNotLoadedError) || !blobs || round >= rounds) throw referredBy(err, where);
      const body = { digest: err.digest, size: 0, media_type: JSON_TYPE };
      await loadPayload(blobs, { [PAYLOAD_REF_KEY]: body }, where);
    }
  }
}

/**
 * A fold of a reader's (the run index's track and advance, `watch`, the state file) made as the engine makes a run's: a
 * DECISION or a template that reads a field of a large payload reads its body, which a process that did not run the task
 * has not loaded. Loaded from `blobs` (opened with the data key where the store encrypts) and folded again, as
 * evaluateLoaded; a fold that reads none stays synchronous. Such readers failed on every store holding such a run.
 */
export function foldLoaded<T>(blobs: BlobStore | undefined, fold: () => T): T | Promise<T> {
  try {
    return fold();
  } catch (err) {
    if (!(err instanceof BlobNotLoadedError) || !blobs) throw err;
    usePayloads(blobs);
    return evaluateLoaded(blobs, fold);
  }
}

/** A tree with every reference in it replaced by its value (what a handler is handed); the same object when it has none. */
/** Whether a value holds a payload reference anywhere (a walk, no promise: most inputs hold none). */
export function holdsPayloadRef(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Object.hasOwn(value, PAYLOAD_REF_KEY) && isPayloadRef(value)) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (holdsPayloadRef(v)) return true;
  return false;
}

/**
 * The value with every payload reference in it read as the value it stands for; the same object when it holds none
 * (found without a promise per node: this runs for every attempt's input).
 */
export function resolvePayloads(
  value: unknown,
  blobs: BlobStore | undefined,
  where: string,
): unknown | Promise<unknown> {
  return holdsPayloadRef(value) ? resolveHeld(value, blobs, where) : value;
}

async function resolveHeld(value: unknown, blobs: BlobStore | undefined, where: string): Promise<unknown> {
  if (value === null || typeof value !== 'object') return value;
  if (isPayloadRef(value)) {
    if (!blobs) throw new BlobNotLoadedError(value[PAYLOAD_REF_KEY].digest);
    return loadPayload(blobs, value, where);
  }
  if (Array.isArray(value)) {
    const items = await Promise.all(value.map((v) => resolveHeld(v, blobs, where)));
    return items.every((v, i) => v === value[i]) ? value : items;
  }
  const entries = Object.entries(value);
  const resolved = await Promise.all(entries.map(([, v]) => resolveHeld(v, blobs, where)));
  return resolved.every((v, i) => v === entries[i]![1])
    ? value
    : Object.fromEntries(entries.map(([k], i) => [k, resolved[i]]));
}

/**
 * A value recorded in an event: itself when its JSON (`text`, made already) is at most `limit` bytes, else the
 * reference to it, stored once in `blobs` (the value kept loaded: the next task reads it without a read).
 */
/** Whether a value's JSON `text` is over `limit` bytes (Infinity: never), measured only when it may be (3 bytes a character at most). */
export function overInline(text: string, limit: number): boolean {
  return text.length > limit / 3 && Buffer.byteLength(text) > limit;
}

export async function externalize(
  value: unknown,
  text: string,
  blobs: BlobStore | undefined,
  limit = DEFAULT_INLINE_LIMIT,
): Promise<unknown> {
  if (!blobs || (limit > 0 && (text.length <= limit / 3 || Buffer.byteLength(text) <= limit))) return value;
  // Repeatable: a store that must know the digest first (NATS) reads it twice rather than keep a copy.
  const ref = await blobs.put(() => utf8Chunks(text), JSON_TYPE);
  remember(ref[PAYLOAD_REF_KEY].digest, value, ref[PAYLOAD_REF_KEY].size);
  return ref;
}

/**
 * A handler's output whose JSON is surely over the inline limit (json-chunks.ts `surelyOver`), stored as a blob
 * straight from the value: its JSON is made and written a MiB at a time, never whole, and not parsed back (a later
 * read loads it). A key `lf:blob` in it is refused as it passes (the store drops the partial body). The source is
 * repeatable: a store that must know the digest before it sends a byte (NATS) makes the JSON twice, hashing, then
 * sending, rather than hold it.
 */
export async function externalizeValue(value: unknown, blobs: BlobStore, task: string): Promise<PayloadRef> {
  const refuseKey = (key: string) => {
    if (key === PAYLOAD_REF_KEY) refuseReservedKey(`"${key}"`, task);
  };
  return blobs.put(async function* () {
    yield* jsonBytes(value, refuseKey);
  }, JSON_TYPE);
}

/** Characters of text encoded at a time when a value is stored: no second copy of a large value's JSON is made whole. */
const CHUNK_CHARS = 1 << 20;

/** The UTF-8 bytes of `text`, a chunk at a time (never cutting a surrogate pair, which would encode as two U+FFFD). */
async function* utf8Chunks(text: string): AsyncIterable<Uint8Array> {
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + CHUNK_CHARS);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    yield Buffer.from(text.slice(at, end), 'utf8');
    at = end;
  }
}

/** The key of a reference is the engine's own: a handler's output that uses it is refused, never read as one. */
export function refuseReservedKey(text: string, task: string): void {
  if (text.includes(`"${PAYLOAD_REF_KEY}"`))
    throw new NonRetryableError(
      `the output of task ${task} has a key "${PAYLOAD_REF_KEY}", which ledgerflow keeps for references to large payloads; rename that key`,
      'LF_PAYLOAD_KEY_RESERVED',
    );
}

/**
 * A run's input as run.started records it: when its JSON is over `limit`, its largest fields are kept apart, one by
 * one, until the rest is within it (the input stays an object of the same keys, so `${workflow.input.x}` reads as
 * before). The same object when it is within the limit.
 */
export async function externalizeFields(
  input: Record<string, unknown>,
  blobs: BlobStore | undefined,
  limit = DEFAULT_INLINE_LIMIT,
): Promise<Record<string, unknown>> {
  const whole = JSON.stringify(input);
  if (!blobs || whole.length <= limit / 3 || Buffer.byteLength(whole) <= limit) return input;
  const sized = Object.entries(input).map(([key, value]) => {
    const text = JSON.stringify(value) ?? 'null';
    return { key, value, text, bytes: Buffer.byteLength(text) };
  });
  let total = Buffer.byteLength(whole);
  const out: Record<string, unknown> = { ...input };
  for (const f of [...sized].sort((a, b) => b.bytes - a.bytes)) {
    if (total <= limit) break;
    // Forced past the limit: each field kept apart is one reference (about 150 bytes) instead of its JSON.
    const ref = await externalize(f.value, f.text, blobs, 0);
    if (ref === f.value) continue;
    out[f.key] = ref;
    total -= f.bytes - Buffer.byteLength(JSON.stringify(ref));
  }
  return out;
}
