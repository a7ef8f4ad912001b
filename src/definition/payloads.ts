/**
 * `payloads:` on a workflow: how large an input, output, signal or approval value may be inline in an event before it
 * is kept apart, content-addressed, in the store's blobs (events/payload-ref.ts; docs/language.md#large-payloads).
 */
import { z } from 'zod';
import { parseSize } from './http.js';

/** 256 KiB: a value whose JSON is larger is kept apart unless the workflow says otherwise. */
export const DEFAULT_INLINE_LIMIT = 256 * 1024;
const MIN_INLINE_LIMIT = 1024;
const MAX_INLINE_LIMIT = 16 * 1024 * 1024;

const LIMIT_FIX = 'expected a size from 1KiB to 16MiB: bytes, or e.g. 64KiB, 1MiB (default 256KiB)';

export const PayloadsSchema = z.object({
  inline_limit: z
    .union([z.number(), z.string()], { error: LIMIT_FIX })
    .refine(
      (v) => {
        const bytes = parseSize(v);
        return bytes !== undefined && bytes >= MIN_INLINE_LIMIT && bytes <= MAX_INLINE_LIMIT;
      },
      { error: LIMIT_FIX },
    )
    .optional()
    .meta({
      description:
        'Bytes of JSON a value (the input, an output, a signal or approval) may be inline in the run log; a larger one is stored once in the blobs and the event keeps a reference (default 256KiB).',
    }),
});

/** The bytes of `payloads.inline_limit` as written, or undefined (the default) when the workflow sets none. */
export function inlineLimitOf(raw: unknown): number | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const v = (raw as Record<string, unknown>).inline_limit;
  const bytes = parseSize(v);
  return bytes !== undefined && bytes >= MIN_INLINE_LIMIT && bytes <= MAX_INLINE_LIMIT ? bytes : undefined;
}
