/**
 * The envelope of an event that may fire triggers, as producers send it (`ledgerflow emit`, and later a NATS subject).
 * Not to be confused with the envelope of a run's own events (events/): this one comes from outside and is checked at
 * the boundary before anything else looks at it.
 */
import { z } from 'zod';
import { EVENT_TYPE_PATTERN } from '../definition/index.js';
import { clippedValue, quoteNames } from '../errors/index.js';
import type { ScopeEvent } from '../expressions/index.js';

/** A message for a present but wrong value; a missing one keeps zod's own (reported as "missing (required)"). */
const unlessMissing = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? undefined : message;

export const EventEnvelopeIn = z.object({
  /** Unique per event (a uuid, say): the same id delivered twice starts each workflow once. */
  id: z.string().min(1).max(256),
  type: z
    .string()
    .max(128)
    .regex(EVENT_TYPE_PATTERN, {
      error: unlessMissing('expected letters, digits, _ and - in dot-separated parts, e.g. revenue_milestone'),
    }),
  /** When the event happened, ISO 8601 with Z or an offset. */
  time: z.iso.datetime({
    offset: true,
    error: unlessMissing('expected an ISO 8601 date-time such as 2026-11-01T09:00:00Z'),
  }),
  source: z.string().min(1).optional(),
  data: z.record(z.string(), z.unknown(), { error: unlessMissing('expected an object (the event payload)') }),
});
export type TriggerEvent = z.infer<typeof EventEnvelopeIn> & ScopeEvent;

/** `data.engagement.visits`, `data.tags[0]`; a key of the sender's past 60 characters cut (clippedValue). */
function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((seg, i) =>
      typeof seg === 'number' ? `[${seg}]` : i === 0 ? clippedValue(String(seg)) : `.${clippedValue(String(seg))}`,
    )
    .join('');
}

/**
 * Problems listed, at most: the rest counted in a last line. An event's data is the sender's, so it may fail its
 * schema a million ways at once (an array of wrong items, an object of unknown keys); the refusal, the dead letter and
 * the HTTP answer say what is wrong without growing with it.
 */
const PROBLEMS_LISTED = 20;

/** One line per zod issue, each naming the field: "data.revenue: expected number, received string". */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  const lines = issues.slice(0, PROBLEMS_LISTED).map((issue) => {
    const where = issuePath([...prefix, ...issue.path]) || '(event)';
    const message =
      issue.code === 'invalid_type' && /received undefined$/.test(issue.message)
        ? 'missing (required)'
        : issue.code === 'unrecognized_keys'
          ? `Unrecognized key${issue.keys.length === 1 ? '' : 's'}: ${quoteNames(issue.keys)}`
          : issue.message.replace(/^Invalid input: /, '');
    return `${where}: ${message}`;
  });
  const more = issues.length - lines.length;
  if (more > 0) lines.push(`and ${more.toLocaleString('en-US')} more problem${more === 1 ? '' : 's'}`);
  return lines;
}

export function parseEventEnvelope(
  raw: unknown,
): { ok: true; event: TriggerEvent } | { ok: false; problems: string[] } {
  const r = EventEnvelopeIn.safeParse(raw);
  return r.success ? { ok: true, event: r.data } : { ok: false, problems: describeIssues(r.error.issues) };
}
