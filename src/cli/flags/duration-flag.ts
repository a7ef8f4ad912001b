/**
 * Duration flags (--max-wait, --wait, --timeout, --grace, --ack-wait, …): the parser and the cap of durations in
 * definitions (365d), so `--max-wait 9999999d` is refused (exit 2) instead of becoming a timer no Date can hold.
 */
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from '../../duration.js';
import { UsageError } from '../../errors/index.js';

/** Milliseconds from a duration flag's text; `example` is what the message suggests instead. */
export function durationFlag(flag: string, text: string, example: string): number {
  // Said in words: `${flag} ${text}` of an empty value read "--older-than  is not a duration", as if a word were lost.
  if (text.trim() === '')
    throw new UsageError(`${flag} was given an empty value; it takes a duration, e.g. ${example}`, {
      flag,
      value: text,
    });
  const ms = parseDuration(text);
  if (ms === null)
    throw new UsageError(`${flag} ${text} is not a duration; use e.g. ${example}`, { flag, value: text });
  if (ms > MAX_DURATION_MS) {
    throw new UsageError(
      `${flag} ${text} is longer than ${MAX_DURATION_TEXT}, the longest duration ledgerflow takes (as in a definition); use e.g. ${example}`,
      { flag, value: text, max: MAX_DURATION_TEXT },
    );
  }
  return ms;
}

/** The same, for a flag that may be left out. */
export function optionalDurationFlag(flag: string, text: string | undefined, example: string): number | undefined {
  return text === undefined ? undefined : durationFlag(flag, text, example);
}

/**
 * A duration flag whose values are days and hours (--older-than, --retention, --archive-every): a bare number is
 * refused rather than read as milliseconds, as the others read it. `archive --older-than 30` meant 30 days to its user
 * and archived every settled run (30 ms). 0 is taken: it is the same in every unit (the caller judges it).
 */
export function unitDurationFlag(flag: string, text: string, example: string): number {
  const ms = durationFlag(flag, text, example);
  if (ms !== 0 && /^\s*\d+(?:\.\d+)?\s*$/.test(text)) {
    const n = text.trim();
    // An environment variable (LEDGERFLOW_RETENTION) is suggested as it is set: NAME=30d.
    const as = flag.startsWith('-') ? `${flag} ` : `${flag}=`;
    throw new UsageError(
      `${flag} ${n} has no unit: write one, e.g. ${as}${n}d for ${n} days or ${as}${n}h for ${n} hours (units: ms, s, m, h, d, w)`,
      { flag, value: text },
    );
  }
  return ms;
}

/** The same, for a flag that may be left out. */
export function optionalUnitDurationFlag(flag: string, text: string | undefined, example: string): number | undefined {
  return text === undefined ? undefined : unitDurationFlag(flag, text, example);
}
