/**
 * The zod schema of a `notifications:` rule (in a definition or a global notifications file): statuses, roles, targets
 * (NATS, webhook) and the webhook checks (http(s) URL, header names, headers ledgerflow sets itself).
 */
import { z } from 'zod';
import { NOTIFY_ON } from './types.js';
import { MAX_ATTEMPTS } from './task-schema.js';

/** An absolute http(s) URL: what a webhook may be (no file:, data:, javascript: or relative URLs). */
function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Headers ledgerflow sets on a webhook's POST itself: a rule may not set them. */
const RESERVED_WEBHOOK_HEADERS = [
  'content-type',
  'content-length',
  'host',
  'idempotency-key',
  'transfer-encoding',
  'connection',
];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Which of `on`'s values is wrong, when it is a list (a union's own message would only say "a list"). */
function onError(issue: { input?: unknown }): string {
  const bad = Array.isArray(issue.input)
    ? issue.input.filter((x) => !(NOTIFY_ON as readonly unknown[]).includes(x))
    : [];
  const which =
    bad.length > 0
      ? `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not a status to notify on; `
      : '';
  return `${which}expected a status or a list of them: ${NOTIFY_ON.join(', ')}`;
}

const RoleName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected a role name: letters, digits, _ and -, e.g. commander' });

const NotifyOnValue = z.enum(NOTIFY_ON, { error: `expected one of ${NOTIFY_ON.join(', ')} (upper case)` });

/**
 * One `notifications:` rule, in a definition or in a global notifications file (`--notifications`,
 * LEDGERFLOW_NOTIFICATIONS): the same shape.
 */
export const NotificationRuleSchema = z
  .object({
    on: z
      .union(
        [NotifyOnValue, z.array(NotifyOnValue).min(1, { error: 'list at least one of ' + NOTIFY_ON.join(', ') })],
        { error: onError },
      )
      .optional()
      .meta({
        description:
          'FAILED, WAITING (for a person or a signal), COMPLETED, CANCELLED, RETRIED (a task attempt number reaching retried_at_least).',
      }),
    role: z
      .union([RoleName, z.array(RoleName).min(1, { error: 'list at least one role, e.g. [commander]' })], {
        error: 'expected a role name or a list of them, e.g. commander',
      })
      .optional()
      .meta({
        description:
          "People this target reaches by role: the failure handler's notify_commander step sends to the targets of role commander.",
      }),
    retried_at_least: z
      .number()
      .int()
      .min(2, { error: 'expected an attempt number of at least 2 (2 = the first retry)' })
      .max(MAX_ATTEMPTS)
      .optional()
      .meta({
        description: "With RETRIED: notify when a task's attempt number reaches this (default 2, the first retry).",
      }),
    nats: z
      .boolean()
      .optional()
      .meta({ description: 'Publish on lf.notify.<workflow>.<status> (on NATS JetStream only).' }),
    webhook: z
      .string()
      .refine(isHttpUrl, { error: 'expected an absolute http:// or https:// URL' })
      .optional()
      .meta({ description: 'POST a JSON body to this http(s) URL.' }),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, { error: 'expected an HTTP header name' }),
        z.string({ error: 'expected a header value (a string)' }),
        { error: 'expected a map of Header-Name: value' },
      )
      .optional()
      .meta({ description: 'Headers added to the webhook POST.' }),
  })
  .check((ctx) => {
    const r = ctx.value;
    const on = r.on === undefined ? [] : Array.isArray(r.on) ? r.on : [r.on];
    if (r.on === undefined && r.role === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: r,
        path: [],
        message: `a notification needs \`on:\` (when to send: ${NOTIFY_ON.join(', ')}) and/or \`role:\` (who it reaches, e.g. commander)`,
      });
    }
    if (r.nats !== true && r.webhook === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: r,
        path: [],
        message: 'a notification needs a target: `nats: true` and/or `webhook: <http(s) URL>`',
      });
    }
    if (r.retried_at_least !== undefined && !on.includes('RETRIED')) {
      ctx.issues.push({
        code: 'custom',
        input: r.retried_at_least,
        path: ['retried_at_least'],
        message: 'retried_at_least applies to RETRIED only: add RETRIED to `on`',
      });
    }
    if (r.headers !== undefined && r.webhook === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: r.headers,
        path: ['headers'],
        message: 'headers go with a webhook: add `webhook: <http(s) URL>`',
      });
    }
    for (const name of Object.keys(r.headers ?? {})) {
      if (RESERVED_WEBHOOK_HEADERS.includes(name.toLowerCase())) {
        ctx.issues.push({
          code: 'custom',
          input: name,
          path: ['headers', name],
          message: `${name} is set by ledgerflow itself (the JSON body, the notification's id): leave it out`,
        });
      }
    }
  });

export const NotificationsSchema = z.array(NotificationRuleSchema, {
  error: 'expected a list of notification rules (each with `on:` and a target)',
});
