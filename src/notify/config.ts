/**
 * Global notifications: a YAML or JSON file (`--notifications <file>`, or LEDGERFLOW_NOTIFICATIONS) holding the same
 * list a definition's `notifications:` holds, for every run this process drives, and optionally how deliveries are
 * retried:
 *
 *   notifications:            # or the list alone, as the whole file
 *     - on: [FAILED]
 *       webhook: https://hooks.example/ops
 *   delivery:                 # optional; these are the defaults
 *     attempts: 5             # tries per target before dead-lettering
 *     backoff: 1s             # wait after the first failed try, doubling...
 *     max_backoff: 1m         # ...up to this
 *     timeout: 10s            # one try's limit (a webhook that never answers)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import {
  Locator,
  NotificationsSchema,
  notificationRules,
  parseDuration,
  type NotificationRule,
} from '../definition/index.js';
import { NotificationsConfigError, errorMessage } from '../errors/index.js';

export interface DeliverySettings {
  /** Tries per target (the first one included) before the notification is dead-lettered. */
  attempts: number;
  /** The wait after the first failed try; it doubles after each one, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** One try's limit: a webhook that accepts the connection and never answers is cut off then. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  attempts: 5,
  backoffMs: 1000,
  maxBackoffMs: 60_000,
  timeoutMs: 10_000,
};

/** The wait after `failed` failed tries: backoff, 2×, 4× … at most maxBackoffMs. */
export function backoffAfter(failed: number, s: Pick<DeliverySettings, 'backoffMs' | 'maxBackoffMs'>): number {
  return Math.min(s.maxBackoffMs, s.backoffMs * 2 ** Math.min(30, Math.max(0, failed - 1)));
}

export interface NotificationsConfig {
  rules: NotificationRule[];
  delivery: DeliverySettings;
  /** Where they were read from (null: none given). */
  file: string | null;
}

const DURATION = 'expected a duration like "500ms", "1s", "1m" or a number of milliseconds';
const Duration = z.union(
  [z.number().nonnegative(), z.string().refine((s) => parseDuration(s) !== null, { error: DURATION })],
  { error: DURATION },
);

const DeliverySchema = z.strictObject({
  attempts: z
    .number()
    .int()
    .min(1, { error: 'expected at least 1 try' })
    .max(100, { error: 'expected at most 100 tries' })
    .optional(),
  backoff: Duration.optional(),
  max_backoff: Duration.optional(),
  timeout: Duration.optional(),
});

const FileSchema = z.union(
  [NotificationsSchema, z.strictObject({ notifications: NotificationsSchema, delivery: DeliverySchema.optional() })],
  { error: 'expected `notifications: [rules]` (with an optional `delivery:`), or a list of rules' },
);

const ms = (v: string | number | undefined, fallback: number) =>
  v === undefined ? fallback : (parseDuration(v) ?? fallback);

/** A notifications file's text (YAML or JSON) checked: every problem with its file:line:col. */
export function parseNotificationsFile(text: string, file: string): NotificationsConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  if (doc.errors.length > 0)
    throw new NotificationsConfigError(
      file,
      doc.errors.map((e) => `${file}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1}: YAML: ${e.message}`),
    );
  const raw: unknown = doc.toJS();
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    // The union's own issue hides where a rule is wrong: check the list where it is, to name the place.
    const list = Array.isArray(raw)
      ? { at: [] as (string | number)[], value: raw }
      : { at: ['notifications'], value: (raw as { notifications?: unknown } | null)?.notifications };
    const inner = Array.isArray(list.value) ? NotificationsSchema.safeParse(list.value) : null;
    const delivery =
      !Array.isArray(raw) && raw !== null && typeof raw === 'object'
        ? DeliverySchema.optional().safeParse((raw as { delivery?: unknown }).delivery)
        : null;
    const issues = [
      ...(inner && !inner.success
        ? inner.error.issues.map((i) => ({
            path: [...list.at, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
            message: i.message,
          }))
        : []),
      ...(delivery && !delivery.success
        ? delivery.error.issues.map((i) => ({
            path: ['delivery', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
            message: i.message,
          }))
        : []),
    ];
    if (issues.length === 0)
      issues.push(
        ...parsed.error.issues.map((i) => ({
          path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
          message: i.message,
        })),
      );
    throw new NotificationsConfigError(
      file,
      issues.map((i) => {
        const pos = new Locator(doc, lineCounter, text).locate(i.path);
        return `${file}:${pos.line}:${pos.col}: ${
          i.path.length > 0
            ? `${i.path
                .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
                .join('')
                .replace(/^\./, '')}: `
            : ''
        }${i.message}`;
      }),
    );
  }
  const body = Array.isArray(parsed.data) ? { notifications: parsed.data, delivery: undefined } : parsed.data;
  const d = body.delivery ?? {};
  const delivery: DeliverySettings = {
    attempts: d.attempts ?? DEFAULT_DELIVERY.attempts,
    backoffMs: ms(d.backoff, DEFAULT_DELIVERY.backoffMs),
    maxBackoffMs: ms(d.max_backoff, DEFAULT_DELIVERY.maxBackoffMs),
    timeoutMs: Math.max(1, ms(d.timeout, DEFAULT_DELIVERY.timeoutMs)),
  };
  return { rules: notificationRules(body.notifications), delivery, file };
}

/**
 * The global notifications of this process: the flag's file, else LEDGERFLOW_NOTIFICATIONS's, else none (the
 * definitions' own rules still apply, with the default delivery settings).
 */
export function loadNotificationsConfig(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): NotificationsConfig {
  const given = flag ?? (env.LEDGERFLOW_NOTIFICATIONS || undefined);
  if (given === undefined) return { rules: [], delivery: { ...DEFAULT_DELIVERY }, file: null };
  const file = resolve(given);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NotificationsConfigError(given, [
      `${given}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})${flag === undefined ? ' (named by LEDGERFLOW_NOTIFICATIONS)' : ''}`,
    ]);
  }
  return parseNotificationsFile(text, given);
}
