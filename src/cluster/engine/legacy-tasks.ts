/**
 * Attempts left in the single task stream of older versions (LF_TASKS, lf.tasks.<queue>.<handler>) on a cluster
 * upgraded to a stream per queue (LF_TASKS_<queue>, lf.q.<queue>.<handler>): workers of this version never read
 * LF_TASKS (nats.conf grants them only their queues' streams), so every engine moves what it finds there onto its
 * queue's stream, at start and then every 30 s (an engine of the older version still running may publish there until it
 * is stopped).
 *
 * A move publishes the message again, same body (its token included) and same message id (so two engines moving it at
 * once write it once, and an attempt an engine has handed out again meanwhile is not doubled), then deletes it from
 * LF_TASKS. Moving is safe when no worker of the older version still runs the attempt: one whose worker died mid-run is
 * found claimed and unfinished in the attempt ledger by the worker that gets it and reported lost, as any lost worker's
 * (worker.ts). One an older worker is still running when it is moved runs a second time, under the same idempotency
 * key, as an attempt whose worker is cut off does: stop older workers before the engines are upgraded (docs/nats.md,
 * "Upgrading to a stream per queue").
 */
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { LEGACY_TASKS, type TaskQueues } from '../transport/index.js';
import { errorMessage } from '../../errors/index.js';
import { everyUntilStopped, type Lifecycle } from './inbox.js';

export const LEGACY_TASKS_EVERY_MS = 30_000;

const LEGACY_SUBJECT = /^lf\.tasks\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

const notFound = (err: unknown) => /not found|no message found/i.test(errorMessage(err) ?? '');

/**
 * Moves every message of LF_TASKS onto its queue's stream; returns how many were moved (null: there is no LF_TASKS).
 * `skipped`: sequences already reported as not a task subject, so each is logged once.
 */
export async function moveLegacyTasks(
  jsm: JetStreamManager,
  queues: Pick<TaskQueues, 'dispatch'>,
  log: (line: string) => void,
  skipped = new Set<number>(),
): Promise<number | null> {
  let info;
  try {
    info = await jsm.streams.info(LEGACY_TASKS.name);
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
  let moved = 0;
  for (let seq = info.state.first_seq; info.state.messages > 0; ) {
    let m;
    try {
      // The first message at or after seq (nats-server 2.9+; the client's types know it only for direct gets): gaps of acked attempts are skipped in one request.
      m = await jsm.streams.getMessage(LEGACY_TASKS.name, { seq, next_by_subj: '>' } as unknown as MsgRequest);
    } catch (err) {
      if (notFound(err)) break;
      throw err;
    }
    if (!m) break; // none at or after seq (the client answers null for it)
    seq = m.seq + 1;
    const parts = LEGACY_SUBJECT.exec(m.subject);
    if (!parts) {
      if (!skipped.has(m.seq))
        log(`${LEGACY_TASKS.name} message ${m.seq} on ${m.subject} is not a task attempt: left where it is`);
      skipped.add(m.seq);
      continue;
    }
    await queues.dispatch(
      parts[1]!,
      parts[2]!,
      m.data,
      m.header?.get('Nats-Msg-Id') || `${LEGACY_TASKS.name}/${m.seq}`,
    );
    // Another engine may have moved and deleted it first.
    await jsm.streams.deleteMessage(LEGACY_TASKS.name, m.seq, false).catch((err: unknown) => {
      if (!notFound(err)) throw err;
    });
    moved++;
  }
  if (moved > 0)
    log(
      `moved ${moved} task attempt${moved === 1 ? '' : 's'} left in ${LEGACY_TASKS.name} (from before each queue had its own stream) onto their queues' streams LF_TASKS_<queue>`,
    );
  return moved;
}

/** Moves LF_TASKS's attempts now and every `everyMs` until the engine stops; a failed pass is logged and tried again at the next. */
export function startLegacyTaskMover(
  o: { jsm: JetStreamManager; queues: Pick<TaskQueues, 'dispatch'>; log: (line: string) => void },
  life: Lifecycle,
  everyMs = LEGACY_TASKS_EVERY_MS,
): void {
  const skipped = new Set<number>();
  everyUntilStopped(
    life,
    everyMs,
    () => moveLegacyTasks(o.jsm, o.queues, o.log, skipped),
    (err) =>
      o.log(
        `moving the attempts left in ${LEGACY_TASKS.name}: ${errorMessage(err)}; trying again in ${everyMs / 1000} s`,
      ),
  );
}
