/**
 * A payload kept apart from the events: an input, output, signal or approval value too large to be inline (over the
 * workflow's `payloads.inline_limit`, 256 KiB by default) is stored once, content-addressed, in the store's blob store,
 * and the event holds this reference instead. One key, `lf:blob`, so a handler's own output can hardly look like one
 * by accident (and an output that does is refused at the edge, see store/blobs). The digest is of the JSON bytes in
 * the clear, so the same value is stored once however often it is recorded.
 */
import { z } from 'zod';

export const PAYLOAD_REF_KEY = 'lf:blob';

export const PayloadRefBodySchema = z.object({
  /** `sha256:<64 hex>` of the stored bytes (the value's JSON, before any encryption at rest). */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** Bytes of the value's JSON. */
  size: z.number().int().nonnegative(),
  /** `application/json` for a JSON value. */
  media_type: z.string().min(1),
});
export type PayloadRefBody = z.infer<typeof PayloadRefBodySchema>;

export const PayloadRefSchema = z.object({ [PAYLOAD_REF_KEY]: PayloadRefBodySchema }).strict();
export type PayloadRef = { [PAYLOAD_REF_KEY]: PayloadRefBody };

/** True for a value that is exactly a payload reference (checked cheaply first: one own key). */
export function isPayloadRef(value: unknown): value is PayloadRef {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if (!Object.hasOwn(value, PAYLOAD_REF_KEY)) return false;
  return PayloadRefSchema.safeParse(value).success;
}

/** How a reference reads where a person looks (status, history): `[blob 100.0 MiB sha256:ab12cd34…]`. */
export function payloadLabel(ref: PayloadRef): string {
  const { digest, size } = ref[PAYLOAD_REF_KEY];
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let n = size;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `[blob ${u === 0 ? n : n.toFixed(1)} ${units[u]} ${digest.slice(0, 15)}…]`;
}

/** A tree with each reference in it shown as its label (the same object when it holds none). */
export function labelPayloads(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (isPayloadRef(value)) return payloadLabel(value);
  if (Array.isArray(value)) {
    const items = value.map(labelPayloads);
    return items.every((v, i) => v === value[i]) ? value : items;
  }
  const entries = Object.entries(value);
  const shown = entries.map(([, v]) => labelPayloads(v));
  return shown.every((v, i) => v === entries[i]![1])
    ? value
    : Object.fromEntries(entries.map(([k], i) => [k, shown[i]]));
}
