/**
 * A person's input to a run over NATS — an approval, a signal, a pause,
 * resume or cancel — taken the same way whichever it is:
 *
 * - A run that does not exist is refused at once (when this connection may read the log; a people user's is judged by
 *   the engine).
 * - A name that is given, not proven (no NATS user in the URL: a server without users, or nats-dev.conf's
 *   no-credentials engine user), with no engine listening: judged and recorded in the log at once, marked
 *   `unauthenticated`, exactly as on the embedded store, and the engines woken for when one starts.
 * - Otherwise it is published under the sender's name and an engine judges and records it (the verdict is waited for up
 *   to `waitMs`); one nobody took yet waits in its stream, where the next engine, or the next `resume` of the run
 *   (takeQueuedInputs), takes it.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { RunNotFoundError, UsageError, permissionDenied } from '../../errors/index.js';
import { RunCommits, recordInput, type InputOutcome, type RunInput } from '../../executor/index.js';
import type { ClusterClient } from './client.js';
import { publishApproval, publishControl, publishSignal } from './published-inputs.js';
import { credentials, ENGINE_CONSUMERS, STREAMS } from '../transport/index.js';
import { jetstreamManager } from '../../store/index.js';

// The input and its outcome are one shape on every store (executor/outside-inputs.ts, which records one through RunCommits).
export type { InputOutcome } from '../../executor/index.js';

/** Who sends: the NATS user of the URL (proven by the server), else `as`, else `fallback` (a name, not proven). */
export function senderFor(url: string, as: string | undefined, fallback: string): { name: string; proven: boolean } {
  const user = credentials(url.split(',')[0]!.trim()).user;
  if (user) {
    if (as !== undefined && as !== user)
      throw new UsageError(
        `as ${as} does not match the NATS user ${user}: on a NATS server with users you act as the user you connect as`,
        { as, user },
      );
    return { name: user, proven: true };
  }
  return { name: as ?? fallback, proven: false };
}

/**
 * The run's last sequence, or null when this connection's user may not write the log: a person's, whose inputs the
 * engines judge and record (and whose user reads the log by gets, users/nats-conf-grants.ts, but takes no queued input
 * nor records one), or a worker's, which may not read it either.
 */
export async function lastSeqIfReadable(client: ClusterClient, runId: string): Promise<number | null> {
  let seq: number;
  try {
    seq = await client.store.lastSeq(runId);
  } catch (err) {
    if (permissionDenied(err) !== null) return null;
    throw err;
  }
  return (await client.mayWriteLog()) ? seq : null;
}

/**
 * Whether a run with no message on the stream is in the archive (docs/retention.md): settled, and read as before, so
 * an input to it is judged as the embedded store judges one to a settled run, not refused as a run that never was.
 */
export async function archivedRun(client: ClusterClient, runId: string): Promise<boolean> {
  return (await client.store.archive().find(runId)) !== null;
}

const CONSUMER = {
  approval: [STREAMS.approvals.name, ENGINE_CONSUMERS.approvals],
  signal: [STREAMS.signals.name, ENGINE_CONSUMERS.signals],
  control: [STREAMS.control.name, ENGINE_CONSUMERS.control],
} as const;

/** Whether an engine pulls from the stream this input goes to now (its shared consumer has pull requests waiting). */
export async function engineListening(jsm: JetStreamManager, kind: RunInput['kind']): Promise<boolean> {
  const [stream, durable] = CONSUMER[kind];
  const info = await jsm.consumers.info(stream, durable).catch(() => null);
  return (info?.num_waiting ?? 0) > 0;
}

export async function deliverInput(
  client: ClusterClient,
  url: string,
  runId: string,
  input: RunInput,
  opts: { as?: string; fallback: string; waitMs: number },
): Promise<InputOutcome> {
  const who = senderFor(url, opts.as, opts.fallback);
  const readable = await lastSeqIfReadable(client, runId);
  if (readable === 0) {
    if (!(await archivedRun(client, runId))) throw new RunNotFoundError(runId);
    // Archived, so settled: judged here from its archived log (the store's read), which records nothing on a settled
    // run (a cancel says so, a signal or approval is refused) — never published for an engine, never "not found".
    return recordInput(new RunCommits({ store: client.store }), runId, input, {
      by: who.name,
      unauthenticated: !who.proven,
    });
  }
  if (!who.proven && readable !== null) {
    await client.conn();
    const jsm = await jetstreamManager(await client.store.connection());
    if (!(await engineListening(jsm, input.kind))) {
      // Judged and recorded here, as on the embedded store (refusals throw as there).
      const commits = new RunCommits({ store: client.store });
      const outcome = await recordInput(commits, runId, input, { by: who.name, unauthenticated: true });
      // Whichever engine starts next acts on it (starts what a resume or an approval made due), and on the runs
      // it admitted (a cancel or a rejection that settled the run freed its concurrency slot).
      if (outcome.changed) await client.kick(runId);
      await client.kickAdmitted(commits);
      return outcome;
    }
  }
  return publish(client, runId, input, who, opts.waitMs, readable !== null);
}

/** Published under the sender's name; the engine's verdict, when it comes in time, says what became of it. */
async function publish(
  client: ClusterClient,
  runId: string,
  input: RunInput,
  who: { name: string; proven: boolean },
  waitMs: number,
  readable: boolean,
): Promise<InputOutcome> {
  const base = { by: who.name, unauthenticated: !who.proven, changed: true };
  if (input.kind === 'control') {
    const r = await publishControl(client.url, runId, input.action, {
      as: who.name,
      waitMs,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    });
    // Refused is said only of a resume (a run not paused): nothing changed; other refusals throw.
    const changed = r.reason === undefined;
    return {
      ...base,
      changed,
      recorded: changed && r.recorded,
      queued: changed && !r.recorded,
      seq: r.seq ?? null,
      status: r.status,
    };
  }
  const verdict =
    input.kind === 'approval'
      ? await publishApproval(client.url, runId, input.taskId, who.name, input.decision, input.comment, waitMs)
      : await publishSignal(client.url, runId, input.name, {
          ...(input.data !== undefined ? { data: input.data } : {}),
          as: who.name,
          waitMs,
        });
  // The run exists where it is readable (deliverInput refused one that does not).
  const status = readable && verdict ? (await new RunCommits({ store: client.store }).status(runId)).status : null;
  return { ...base, recorded: verdict !== null, queued: verdict === null, seq: verdict?.seq ?? null, status };
}
