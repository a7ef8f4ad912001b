/**
 * Who wrote a dead letter, and whether `ledgerflow dlq replay` may publish it again.
 *
 * A replay publishes the kept body on the letter's `source.subject` with the rights of whoever replays it: the engine
 * user, who may publish anywhere. So the letter itself is a claim, and a replay may only repeat what its original
 * sender could say:
 * - Only a letter an engine wrote is replayed. Engines write on lf.dlq.<kind>, which nats.conf lets only the engine's
 *   rights publish; they copy the subject and body of a message the server delivered to them, so its sender token
 *   (lf.approvals.….<user>, lf.inputs.<sender>.…) is one the server enforced when it was first published, and the same
 *   subject again keeps that identity.
 * - Workers write on lf.dlq.tasks.<their user> (nats.conf grants each its own): what a worker writes (subject, body) is
 *   its word only, so it is listed, with its writer, and never replayed. Plain lf.dlq.tasks is where workers wrote
 *   before that: kept to read, never replayed.
 * - A letter is replayed only onto the stream its kind names (one on lf.dlq.approvals only onto lf.approvals.…), so no
 *   letter carries a body into a stream other than the one it was taken from.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { STREAMS, type DeadLetterMessage } from '../transport/index.js';

/** The kinds engines and workers write: the stream the message came from. */
export const DEAD_LETTER_KINDS = [
  'inputs',
  'timers',
  'approvals',
  'triggers',
  'tasks',
  'signals',
  'control',
  'starts',
  'deploys',
  'limits',
  'upkeep',
  'notifications',
] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/**
 * Who wrote a dead letter, from its subject in LF_DLQ (which nats.conf's permissions enforce): an engine
 * (lf.dlq.<kind>), a worker (lf.dlq.tasks.<user>; `user` null for plain lf.dlq.tasks, written before workers named
 * themselves), or unknown (a subject ledgerflow does not write).
 */
export type DeadLetterWriter = { role: 'engine' } | { role: 'worker'; user: string | null } | { role: 'unknown' };

/** The one stream (and its subjects) a letter of each kind an engine writes is replayed onto. */
const REPLAY_TARGET: Partial<Record<DeadLetterKind, { name: string; prefix: string }>> = {
  ...Object.fromEntries(
    (['inputs', 'timers', 'approvals', 'triggers', 'signals', 'control'] as const).map((k) => [
      k,
      { name: STREAMS[k].name, prefix: STREAMS[k].subjects[0].slice(0, -1) },
    ]),
  ),
  // A person's refused start, deploy, limits or upkeep (its sender's level raised since, say), onto LF_REQUESTS, each on its own subjects.
  starts: { name: STREAMS.requests.name, prefix: 'lf.starts.' },
  deploys: { name: STREAMS.requests.name, prefix: 'lf.deploys.' },
  limits: { name: STREAMS.requests.name, prefix: 'lf.limits.' },
  upkeep: { name: STREAMS.requests.name, prefix: 'lf.upkeep.' },
};

const isKind = (k: string): k is DeadLetterKind => (DEAD_LETTER_KINDS as readonly string[]).includes(k);

/** The kind and writer of a message on `subject` (lf.dlq.…). */
export function deadLetterSubject(subject: string): { kind: string; writer: DeadLetterWriter } {
  const [, , kind = '', ...rest] = subject.split('.');
  if (kind === 'tasks' && rest.length <= 1) return { kind, writer: { role: 'worker', user: rest[0] ?? null } };
  if (rest.length === 0 && isKind(kind)) return { kind, writer: { role: 'engine' } };
  return { kind, writer: { role: 'unknown' } };
}

/** Who wrote it, in words (`dlq list` / `show`). */
export function writerText(w: DeadLetterWriter): string {
  if (w.role === 'engine') return 'engine';
  if (w.role === 'worker') return w.user !== null ? `worker ${w.user}` : 'a worker (unnamed)';
  return 'unknown';
}

/** Why the letter on `subject` cannot be replayed, or null when it can. */
export function notReplayable(subject: string, l: DeadLetterMessage): string | null {
  const { kind, writer } = deadLetterSubject(subject);
  if (writer.role === 'worker') {
    return writer.user !== null
      ? `it was written by worker ${writer.user} (${subject}), not by an engine: a replay would publish what a worker wrote with the rights of whoever replays it, so a worker's dead letter is kept to read, never replayed`
      : `it is on ${subject}, where workers wrote dead letters before each wrote under its own user (lf.dlq.tasks.<user>): it may be a worker's, so it is kept to read, never replayed`;
  }
  if (writer.role === 'unknown')
    return `ledgerflow writes no dead letters on ${subject}: whoever wrote it, it is kept to read, never replayed`;
  if (l.stage === 'notification' || kind === 'notifications')
    return "a notification given up on is noted in its run's history (notification.dead_lettered); its body is kept here to read, not to publish again";
  if (l.raw === undefined)
    return `its body (${l.size ?? '?'} bytes) was not kept, only an excerpt: bodies over 64 KiB, or not UTF-8 text, are not kept`;
  if (!l.source) return 'it was written before dead letters recorded where the message came from';
  const target = REPLAY_TARGET[kind as DeadLetterKind];
  if (!target) return `a dead letter of kind ${kind} is not replayed`;
  if (l.source.stream !== target.name || !l.source.subject.startsWith(target.prefix)) {
    return `it names ${l.source.subject} on ${l.source.stream}, but a dead letter of kind ${kind} is replayed only onto ${target.prefix}… (${target.name}), the stream it was taken from`;
  }
  if (l.sha256 && createHash('sha256').update(l.raw, 'utf8').digest('hex') !== l.sha256)
    return 'its kept body does not match its sha256';
  return null;
}
