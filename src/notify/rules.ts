/**
 * Which notifications a run's events make due, and which of them its history has not yet noted as delivered. Pure: from
 * the rules and the events alone (each event's recorded state says the run's status after it), so the driver that
 * committed the events and a driver that reads them back after a crash find the same notifications, with the same ids.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { NOTIFY_ON, type NotificationRule, type NotifyOnName } from '../definition/index.js';
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';
import type { WaitingFor } from '../runtime/index.js';

/** Where a notification goes. `key` names the target in the history's notes (no secret of a URL in it). */
export type NotificationTarget =
  | { kind: 'nats'; subject: string; key: string }
  | { kind: 'webhook'; url: string; headers: Record<string, string>; key: string };

/** A notification an event made due. `id` (`<runId>/<seq>/<on>`) is stable: the NATS msg id and the webhook's Idempotency-Key. */
export interface DueNotification {
  id: string;
  on: NotifyOnName;
  runId: string;
  workflowId: string;
  version: number;
  /** The event that made it due, and its time. */
  seq: number;
  time: string;
  /** RETRIED: the task (instance) and the attempt number it reached. */
  task?: string;
  attempt?: number;
  iteration?: number;
  item?: number;
  /** WAITING: the tasks waiting and for whom, in the state its event led to (filled at the edge, which has that state: notifier.ts). */
  waiting?: WaitingFor[];
  targets: NotificationTarget[];
}

/** One delivery still owed: a notification to one target. */
export interface PendingDelivery {
  notification: DueNotification;
  target: NotificationTarget;
}

/** The JSON a webhook receives and NATS subscribers get (no URL, no header in it): the notification, its `on` as `status`. */
export type NotificationBody = Omit<DueNotification, 'on' | 'targets'> & { status: NotifyOnName };

/** A rule as a definition records it (normalised, in run.started): parsed again where it is read back from a log. */
const RecordedRule = z.object({
  // Empty for a rule that only names a role (notify_commander's targets).
  on: z.array(z.enum(NOTIFY_ON)),
  roles: z.array(z.string()).optional(),
  retriedAtLeast: z.number().int().min(2).optional(),
  nats: z.boolean(),
  webhook: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

/** The rules a run's recorded definition holds (none when it has none, or they do not parse). */
export function rulesOfDefinition(
  definition: Record<string, unknown> | { notifications?: NotificationRule[] },
): NotificationRule[] {
  const raw = (definition as { notifications?: unknown }).notifications;
  if (raw === undefined) return [];
  const parsed = z.array(RecordedRule).safeParse(raw);
  return parsed.success ? (parsed.data as NotificationRule[]) : [];
}

/** `lf.notify.<workflow>.<status>`: workflow ids are subject tokens already (the definition language says so). */
function notifySubject(workflowId: string, on: NotifyOnName): string {
  return `lf.notify.${workflowId}.${on}`;
}

/** A webhook's key: its origin (readable) and a hash of the whole URL (tells URLs apart without writing their secrets). */
export function webhookKey(url: string): string {
  const origin = (() => {
    try {
      return new URL(url).origin;
    } catch {
      return 'invalid-url';
    }
  })();
  return `webhook:${origin}#${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

/** The targets of the rules that name `role` (`role: commander`), as a status's are: one per NATS subject or webhook URL. */
export function roleTargets(
  rules: readonly NotificationRule[],
  role: string,
  workflowId: string,
): NotificationTarget[] {
  return targetsOf(
    rules.filter((r) => r.roles?.includes(role)),
    `lf.notify.${workflowId}.role.${role}`,
  );
}

function targetsFor(
  rules: readonly NotificationRule[],
  on: NotifyOnName,
  workflowId: string,
  attempt?: number,
): NotificationTarget[] {
  return targetsOf(
    rules.filter((r) => r.on.includes(on) && (on !== 'RETRIED' || attempt === r.retriedAtLeast)),
    notifySubject(workflowId, on),
  );
}

/** The rules' targets: `subject` for those with `nats: true`, each webhook URL once (the first rule's headers). */
function targetsOf(rules: readonly NotificationRule[], subject: string): NotificationTarget[] {
  const out = new Map<string, NotificationTarget>();
  for (const r of rules) {
    if (r.nats) out.set(`nats:${subject}`, { kind: 'nats', subject, key: `nats:${subject}` });
    if (r.webhook !== undefined) {
      const key = webhookKey(r.webhook);
      if (!out.has(key)) out.set(key, { kind: 'webhook', url: r.webhook, headers: r.headers ?? {}, key });
    }
  }
  return [...out.values()];
}

const isNote = (e: EventEnvelope) => e.type === 'notification.sent' || e.type === 'notification.dead_lettered';
const STATUS_NOTIFIED: readonly WorkflowStatus[] = ['FAILED', 'WAITING', 'COMPLETED', 'CANCELLED'];

/**
 * The notifications `events` make due, given the run's status before the first of them (null before run.started). A
 * status notification is due at the event whose recorded status is that status when the one before was not; RETRIED at
 * a task.started whose attempt number is a rule's `retriedAtLeast` (so once per task instance). Per event, not per
 * commit: however the events were grouped into commits, the same ids come out.
 */
export function dueNotifications(
  rules: readonly NotificationRule[],
  statusBefore: WorkflowStatus | null,
  events: readonly EventEnvelope[],
): DueNotification[] {
  if (rules.length === 0) return [];
  const out: DueNotification[] = [];
  let before = statusBefore;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    // A fork's run.forked records who forked it: its status is its run.started's, which notified already (or is queued).
    if (isNote(e) || e.type === 'run.forked') continue;
    const status = e.state.status;
    // A start queued for a concurrency slot (run.queued follows in the same commit, after a fork's run.forked) has not
    // begun: the status its run.started shows (WAITING for a first HUMAN) is not the run's yet. Its admission notifies it.
    const next = events[i + 1]?.type === 'run.forked' ? events[i + 2] : events[i + 1];
    if (e.type === 'run.started' && next?.type === 'run.queued') continue;
    const base = { runId: e.runId, workflowId: e.workflowId, version: e.version, seq: e.seq, time: e.time };
    if (status !== before && STATUS_NOTIFIED.includes(status)) {
      const on = status as NotifyOnName;
      const targets = targetsFor(rules, on, e.workflowId);
      if (targets.length > 0) out.push({ id: `${e.runId}/${e.seq}/${on}`, on, ...base, targets });
    }
    if (e.type === 'task.started' && e.data.attempt >= 2) {
      const targets = targetsFor(rules, 'RETRIED', e.workflowId, e.data.attempt);
      if (targets.length > 0) {
        const { task, attempt, iteration, item } = e.data;
        out.push({
          id: `${e.runId}/${e.seq}/RETRIED`,
          on: 'RETRIED',
          ...base,
          task,
          attempt,
          ...(iteration !== undefined ? { iteration } : {}),
          ...(item !== undefined ? { item } : {}),
          targets,
        });
      }
    }
    before = status;
  }
  return out;
}

/**
 * The deliveries a run's whole history owes: every notification it made due, to every target `canDeliver` accepts, that
 * no note (sent or dead-lettered) in the history answers. What the next driver delivers after a crash.
 */
export function pendingDeliveries(
  rules: readonly NotificationRule[],
  history: readonly EventEnvelope[],
  canDeliver: (t: NotificationTarget) => boolean = () => true,
): PendingDelivery[] {
  const noted = new Set<string>();
  for (const e of history) {
    if (e.type === 'notification.sent' || e.type === 'notification.dead_lettered')
      noted.add(`${e.data.id}|${e.data.target}`);
  }
  const out: PendingDelivery[] = [];
  for (const n of dueNotifications(rules, null, history)) {
    for (const target of n.targets)
      if (canDeliver(target) && !noted.has(`${n.id}|${target.key}`)) out.push({ notification: n, target });
  }
  return out;
}

export function notificationBody(n: DueNotification): NotificationBody {
  return {
    id: n.id,
    runId: n.runId,
    workflowId: n.workflowId,
    version: n.version,
    status: n.on,
    seq: n.seq,
    time: n.time,
    ...(n.task !== undefined ? { task: n.task } : {}),
    ...(n.attempt !== undefined ? { attempt: n.attempt } : {}),
    ...(n.iteration !== undefined ? { iteration: n.iteration } : {}),
    ...(n.item !== undefined ? { item: n.item } : {}),
    ...(n.waiting !== undefined ? { waiting: n.waiting } : {}),
  };
}

/** The body as a schema: what `docs/asyncapi.yaml` documents for lf.notify.> and what a receiver may parse with. */
export const NotificationBodySchema = z.object({
  id: z.string(),
  runId: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  status: z.enum(NOTIFY_ON),
  seq: z.number().int().positive(),
  time: z.string(),
  task: z.string().optional(),
  attempt: z.number().int().positive().optional(),
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
  waiting: z
    .array(z.object({ task: z.string(), approvers: z.array(z.string()).optional(), signal: z.string().optional() }))
    .optional(),
});
