/**
 * A person's large start input on its way to the engines (docs/language.md#large-payloads): a field whose JSON would
 * make the start request too large for one message is published first, in chunks, on lf.uploads.<sender>.<request>.<hex>
 * (stream LF_UPLOADS; <hex>: the sha256 of the field's JSON), and the request's input holds a reference to it in its
 * place. nats.conf lets a person publish there under their own name only and read nothing of it, so the engine that
 * takes the request reads exactly what this request's sender uploaded: a reference to a body the request did not
 * upload (another run's digest) is refused, never read. The engine purges the request's uploads once it answered.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { createHash } from 'node:crypto';
import { LedgerflowError } from '../../errors/index.js';
import { isPayloadRef, PAYLOAD_REF_KEY, type PayloadRef } from '../../events/index.js';
import { token } from './subjects.js';

/** The stream, its subjects: lf.uploads.<sender>.<request>.<hex>. */
export const UPLOADS_STREAM = { name: 'LF_UPLOADS', subjects: ['lf.uploads.*.*.*'] } as const;

/** Bytes of a chunk: the Object Store's, far under any server's max_payload. */
export const UPLOAD_CHUNK_BYTES = 128 * 1024;

/**
 * Bounds of LF_UPLOADS (LEDGERFLOW_NATS_UPLOADS_MAX_BYTES, ClusterSettings uploadsMaxBytes): full, a new upload is
 * refused (discard new) and the sender told (LF_UPLOADS_FULL); an upload no engine took within 15 minutes expires (an
 * engine takes a start's uploads a moment after they are sent; one never followed by its start, a client killed between
 * the two, would otherwise hold its room until the stream is full: a week was the bound before). Small
 * beside the other bounds a new server must reserve at once (a 1 GB server's file store, a 64 MB memory store): the
 * streams and buckets a client makes reserve 960 MiB of file store with it, so 256 MiB left a 1 GB server unable to
 * make the attempts' bucket. An engine takes an upload within a moment; a larger start waits for room.
 */
export const UPLOADS_LIMITS = {
  maxBytes: 32 * 1024 * 1024,
  maxBytesInMemory: 4 * 1024 * 1024,
  maxAgeMs: 15 * 60_000,
  /** What older versions made the stream with: an existing stream with it (or none) takes maxAgeMs (setup.ts). */
  olderMaxAgeMs: 7 * 24 * 3600_000,
} as const;

/** Where the body of the field whose JSON has digest `digest` (sha256:<hex>) is uploaded for request `request`. */
export function uploadSubject(sender: string, request: string, digest: string): string {
  return `lf.uploads.${token(sender)}.${token(request)}.${digest.replace(/^sha256:/, '')}`;
}

/** Every upload of one request (what the engine purges once it answered). */
export const requestUploads = (sender: string, request: string): string =>
  `lf.uploads.${token(sender)}.${token(request)}.*`;

/**
 * Publishes `text` (a field's JSON) in chunks on its upload subject, each acknowledged by the stream before the next
 * (the server sets the pace: a 100 MB field never sits in the client's buffers whole); returns its reference.
 */
export async function uploadField(
  js: JetStreamClient,
  sender: string,
  request: string,
  text: string,
): Promise<PayloadRef> {
  const bytes = Buffer.from(text, 'utf8');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const subject = uploadSubject(sender, request, digest);
  for (let at = 0; at < bytes.length; at += UPLOAD_CHUNK_BYTES)
    await js.publish(subject, bytes.subarray(at, at + UPLOAD_CHUNK_BYTES));
  return { [PAYLOAD_REF_KEY]: { digest, size: bytes.length, media_type: 'application/json' } };
}

/**
 * The input with its largest top-level fields uploaded, one by one, until the rest is within `limit` bytes of JSON
 * (the input stays an object of the same keys); the same object when it is within already.
 */
export async function uploadLargeFields(
  js: JetStreamClient,
  sender: string,
  request: string,
  input: Record<string, unknown>,
  limit: number,
): Promise<Record<string, unknown>> {
  const whole = JSON.stringify(input);
  if (whole.length <= limit / 3 || Buffer.byteLength(whole) <= limit) return input;
  const sized = Object.entries(input).map(([key, value]) => {
    const text = JSON.stringify(value) ?? 'null';
    return { key, text, bytes: Buffer.byteLength(text) };
  });
  let total = Buffer.byteLength(whole);
  const out: Record<string, unknown> = { ...input };
  for (const f of sized.sort((a, b) => b.bytes - a.bytes)) {
    if (total <= limit) break;
    const ref = await uploadField(js, sender, request, f.text);
    out[f.key] = ref;
    total -= f.bytes - Buffer.byteLength(JSON.stringify(ref));
  }
  return out;
}

/** Why a request's input cannot be taken: the start's refusal (LF_INPUT_INVALID), said to the sender. */
const refusal = (message: string) => new LedgerflowError('LF_INPUT_INVALID', message, {});

/**
 * The input as the sender meant it: each top-level reference read back from this request's own upload, its bytes
 * checked against the reference's digest and size, and parsed. A reference anywhere else, or one whose body this request
 * did not upload, is refused (LF_INPUT_INVALID): a person may not name a body they did not send.
 */
export async function takeUploads(
  jsm: JetStreamManager,
  sender: string,
  request: string | undefined,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const refs = Object.entries(input).filter(([, v]) => isPayloadRef(v)) as [string, PayloadRef][];
  for (const [key, v] of Object.entries(input))
    if (!isPayloadRef(v) && holdsRef(v))
      throw refusal(
        `input ${key} holds a key "${PAYLOAD_REF_KEY}", which ledgerflow keeps for references to large payloads; rename that key`,
      );
  if (refs.length === 0) return input;
  const out = { ...input };
  for (const [key, ref] of refs) {
    const { digest, size } = ref[PAYLOAD_REF_KEY];
    const missing = refusal(
      `input ${key} refers to a body this request did not upload, or whose upload expired (a reference in a start's input must be to a field the same request sent on lf.uploads.<you>.<request>.*, as \`ledgerflow start\` does; LF_UPLOADS keeps one ${UPLOADS_LIMITS.maxAgeMs / 60_000} minutes); nothing was started`,
    );
    if (!request || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw missing;
    const subject = uploadSubject(sender, request, digest);
    const parts: Uint8Array[] = [];
    let got = 0;
    for (let seq = 1; got < size; ) {
      // STREAM.MSG.GET takes next_by_subj (the first message on the subject at or after seq); nats.js's type omits it.
      const query = { seq, next_by_subj: subject } as unknown as { seq: number };
      const m = await jsm.streams.getMessage(UPLOADS_STREAM.name, query);
      if (!m) break;
      parts.push(m.data);
      got += m.data.length;
      seq = m.seq + 1;
    }
    if (got === 0) throw missing;
    const bytes = Buffer.concat(parts);
    const found = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (bytes.length !== size || found !== digest)
      throw refusal(
        `input ${key}: the upload has ${bytes.length} bytes of digest ${found}, not the ${size} bytes of ${digest} its reference says (an upload cut short, or another sent under the same request); nothing was started`,
      );
    out[key] = JSON.parse(bytes.toString('utf8'));
  }
  return out;
}

function holdsRef(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Object.hasOwn(value, PAYLOAD_REF_KEY)) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (holdsRef(v)) return true;
  return false;
}

/** Forgets a request's uploads (answered, accepted or refused). Best effort: LF_UPLOADS's max age drops what is left. */
export async function purgeUploads(jsm: JetStreamManager, sender: string, request: string | undefined): Promise<void> {
  if (!request) return;
  await jsm.streams.purge(UPLOADS_STREAM.name, { filter: requestUploads(sender, request) }).catch(() => undefined);
}
