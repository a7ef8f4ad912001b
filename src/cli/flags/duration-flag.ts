/**
 * Duration flags (--max-wait, --wait, --timeout, --grace, --ack-wait, …): the parser and the cap of durations in
 * definitions (365d), so `--max-wait 9999999d` is refused (exit 2) instead of becoming a timer no Date can hold.
 */
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from '../../duration.js';
import { UsageError } from '../../errors/index.js';

/** Milliseconds from a duration flag's text; `example` is what the message suggests instead. */
export function durationFlag(flag: string, text: string, example: string): number {
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
