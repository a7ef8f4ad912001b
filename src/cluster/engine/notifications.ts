/**
 * The notifications of the commits an engine makes (src/notify delivers them): started in the background after each
 * commit, the message being processed acked only once they have ended (inbox.ts), and a delivery given up on kept as a
 * dead letter on lf.dlq.notifications.
 */
import { chainSecrets, defaultSecrets, kvSecrets } from '../../secrets/index.js';
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '../../store/index.js';
import { iso } from '../../compiler/index.js';
import type { EventEnvelope } from '../../events/index.js';
import {
  Notifier,
  notificationBody,
  type DeliveryOutcome,
  type NotificationsConfig,
  type PendingDelivery,
} from '../../notify/index.js';
import type { JetStreamEventStore } from '../../store/index.js';
import { subjects, type Custody } from '../transport/index.js';
import type { Loaded } from './run-host.js';

export interface EngineNotifierOptions {
  store: JetStreamEventStore;
  nc: NatsConnection;
  js: JetStreamClient;
  stats: { deadLetters: number };
  now: () => number;
  log: (line: string) => void;
  notifications?: Pick<NotificationsConfig, 'rules' | 'delivery'>;
  onNoted?: (events: EventEnvelope[]) => void;
}

/** The engine's Notifier, its dead letters on lf.dlq.notifications. */
export function engineNotifier(o: EngineNotifierOptions): Notifier {
  return new Notifier({
    store: o.store,
    now: o.now,
    log: (line) => o.log(`notify: ${line}`),
    ...(o.notifications ? { config: o.notifications } : {}),
    ...(o.onNoted ? { onNoted: o.onNoted } : {}),
    nats: { connection: o.nc, headers: natsHeaders, deadLetter: (d, outcome) => deadLetterNotification(o, d, outcome) },
    // ${secrets.NAME} in a webhook's URL or headers: the engine user may read KV LF_SECRETS (the worker users by key, people not).
    secrets: chainSecrets(kvSecrets(o.nc), defaultSecrets()),
  });
}

/**
 * Delivers what a commit made due, in the background (the message's ack waits for it, not the run); nothing outside a
 * message's processing. `fromHistory`: the engine before may have died between a commit and its deliveries, so the
 * run's whole history is read for what it owes (only for a run with notification rules).
 */
export async function notifyCommit(
  notifier: Notifier,
  store: JetStreamEventStore,
  runId: string,
  st: Loaded,
  events: EventEnvelope[],
  fromHistory: boolean,
  custody: Custody | null,
): Promise<void> {
  const definition = st.compiled.definition;
  if (!notifier.hasRules(definition)) return;
  const held = custody?.deliveries;
  if (fromHistory) {
    held?.push(notifier.catchUp(await store.read(runId)).done);
    return;
  }
  if (events.length > 0) held?.push(notifier.committed(events, st.snapshot, definition));
}

/** A notification given up on: a dead letter on lf.dlq.notifications, the body kept (it is not replayed: ledgerflow itself delivers again what a history does not note). */
async function deadLetterNotification(
  o: EngineNotifierOptions,
  d: PendingDelivery,
  outcome: Extract<DeliveryOutcome, { delivered: false }>,
): Promise<void> {
  const raw = JSON.stringify(notificationBody(d.notification));
  o.stats.deadLetters++;
  await o.js.publish(
    subjects.dlq('notifications'),
    new TextEncoder().encode(
      JSON.stringify({
        reason: `notification ${d.notification.id} (${d.notification.on}) to ${d.target.key}: given up after ${outcome.attempts} tr${outcome.attempts === 1 ? 'y' : 'ies'}; the last failed with: ${outcome.error.slice(0, 1500)}`,
        at: iso(o.now()),
        stage: 'notification',
        runId: d.notification.runId,
        ...(d.notification.task !== undefined ? { taskId: d.notification.task } : {}),
        size: Buffer.byteLength(raw),
        sha256: createHash('sha256').update(raw).digest('hex'),
        raw,
      }),
    ),
    { msgID: `dlq/notification/${d.notification.id}/${d.target.key}` },
  );
}
