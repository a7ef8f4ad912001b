/** A size flag's value (`--command-output-limit`, `ui --max-input`): bytes, or a number with k, m or g. */
import { UsageError } from '../../errors/index.js';

const POWER: Record<string, number> = { k: 1, m: 2, g: 3 };

/** Bytes from `65536`, `64KiB`, `1MiB`, `1m` (k, m, g alone or with b or ib: powers of 1024); else a UsageError naming the flag. */
export function parseSizeFlag(flag: string, text: string): number {
  const m = /^\s*(\d+)\s*(?:([kmg])(?:i?b)?|b)?\s*$/i.exec(text);
  const bytes = m ? Number(m[1]) * 1024 ** (POWER[m[2]?.toLowerCase() ?? ''] ?? 0) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new UsageError(`${flag} ${text} is not a size; give bytes, e.g. 65536, 64KiB or 1MiB`, { value: text });
  return bytes;
}
