/**
 * What ClusterClient publishes to the engines on its own connection: the kick that wakes them about a run whose log
 * moved here (retried while a cluster elects new leaders), and a business event for their triggers. Apart from
 * client.ts, the client's public face.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { StoreError, errorMessage } from '../../errors/index.js';
import type { JetStreamEventStore } from '../../store/index.js';
import type { TriggerEvent } from '../../triggers/index.js';
import { TriggerVerdict, encode, kickBody, safeSubject, subjects, type InputMessage } from '../transport/index.js';
import { listenForVerdict } from './user-publish.js';

/** How long `start` keeps trying to wake the engines about a run it recorded. */
const KICK_RETRY_MS = 30_000;

/** Wakes the engines about `runId` (ClusterClient.kick), as `sender`, retried for KICK_RETRY_MS. */
export async function kickRun(
  store: JetStreamEventStore,
  sender: string,
  runId: string,
  why: 'started' | 'admitted' | 'input',
): Promise<void> {
  const kick: InputMessage = { type: 'kick', runId, ...(why === 'started' ? { started: true as const } : {}) };
  // A start's kick hands the engine the commit the start appended, sparing the engine its read (handed-commits.ts).
  const body = kickBody(kick, why === 'started' ? store.handedCommits.takeWritten(runId) : undefined);
  const msgID = why === 'started' ? `${runId}/kick` : why === 'admitted' ? `${runId}/admitted` : undefined;
  // The log has moved; the kick only wakes an engine. Retry it, so a passing failure does not leave a
  // recorded run that nobody acts on. For as long as a cluster takes to elect new leaders after losing
  // a node (`npm run chaos` saw 503s for several seconds).
  const giveUpAt = Date.now() + KICK_RETRY_MS;
  for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
    try {
      // On the store's reply subscription (JetStreamEventStore.publishMessage): a start's one request besides the log's.
      await store.publishMessage(subjects.input(sender, runId), body, msgID ? { msgID } : {});
      break;
    } catch (err) {
      if (Date.now() + pause > giveUpAt)
        throw new StoreError(
          `run ${runId} is recorded, but the engines could not be told to act on it (${errorMessage(err)}); ` +
            `\`ledgerflow resume ${runId} --nats <url> --handlers <module>\` continues it in this process`,
          { runId },
          { cause: err },
        );
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** Publishes a business event under its id, with the engines' verdict if asked (ClusterClient.emit). */
export async function publishEvent(
  js: JetStreamClient,
  nc: NatsConnection,
  event: TriggerEvent,
  opts: { waitMs?: number },
): Promise<{ verdict: TriggerVerdict | null; duplicate: boolean }> {
  // An id that is no subject token: no verdict to wait for.
  const subject = safeSubject(() => subjects.triggerVerdict(event.id));
  const verdict =
    subject && (opts.waitMs ?? 0) > 0 ? await listenForVerdict(nc, subject, TriggerVerdict, opts.waitMs!) : null;
  const ack = await js.publish(subjects.trigger(event.type), encode(event), { msgID: event.id });
  // The stream dropped it as a repeat within its dedup window: no engine sees it again, so no verdict comes.
  if (ack.duplicate) return { verdict: null, duplicate: true };
  return { verdict: verdict ? await verdict.next : null, duplicate: false };
}
