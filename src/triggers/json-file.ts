/** The trigger state files' reading (gates.json, schedules.json): JSON checked by zod, refused with its path and what to do. */
import type { z } from 'zod';
import { type ErrorCode, LedgerflowError, errorMessage } from '../errors/index.js';

export function parseJsonFile<T>(
  file: string,
  text: string,
  schema: z.ZodType<T>,
  code: ErrorCode,
  what: string,
  advice: string,
): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LedgerflowError(code, `${file} is not JSON (${errorMessage(err)}); ${advice}`, { file });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new LedgerflowError(
      code,
      `${file} is not ${what}: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}; ${advice}`,
      { file },
    );
  return parsed.data;
}
