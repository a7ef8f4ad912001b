/**
 * Who may read runs on NATS. The dashboard reads with its own connection (one run index, one watch), so it applies the
 * rule nats.conf would apply to the person: may this user make the JetStream request that reads a run's log,
 * `$JS.API.STREAM.MSG.GET.<log stream>` (every status, history and event read of the store is one)? It asks NATS on the
 * person's own connection: a request there that NATS refuses is a permissions violation, any JetStream answer (even "no
 * message") means the publish got through. Asked at sign-in and again when the answer is older than READ_RECHECK_MS, so
 * a changed nats.conf (reloaded) takes effect without signing in again.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { errorMessage, permissionDenied } from '../errors/index.js';
import { ApiError } from './errors.js';
import { apiPrefix } from '../store/index.js';

/** How long a probe's answer stands before the next read asks NATS again. */
export const READ_RECHECK_MS = 30_000;
const PROBE_TIMEOUT_MS = 5_000;

/** The subject that stands for "may read runs": the store's read of one message of the log. */
export const readSubject = (stream: string) => `$JS.API.STREAM.MSG.GET.${stream}`;

/** The 403 every read route answers a user without it: which permission to add, where. */
export function readRefusal(user: string, stream: string): ApiError {
  const subject = readSubject(stream);
  return new ApiError(
    403,
    'LF_FORBIDDEN',
    `NATS user ${user} is not allowed to read runs: reading a run's log needs "${subject}" in the user's publish permissions in nats.conf ` +
      '(the shipped nats.conf gives it to the people users, alice, bob, cfo and commander, and not to worker). Add it and reload nats-server; the dashboard asks again within ' +
      `${READ_RECHECK_MS / 1000} s`,
    { subject },
  );
}

/**
 * True when NATS lets `nc` publish the log-read request, false when it refuses with a permissions violation; anything
 * else (NATS unreachable, no answer) is a 503, not a guess either way.
 */
export async function mayReadLog(nc: NatsConnection, stream: string): Promise<boolean> {
  // A subject no run has: an allowed user gets JetStream's "no message found", never a run's data.
  const query = JSON.stringify({ last_by_subj: '_lf.read-probe' });
  try {
    await nc.request(`${apiPrefix(nc)}.STREAM.MSG.GET.${stream}`, new TextEncoder().encode(query), {
      timeout: PROBE_TIMEOUT_MS,
    });
    return true;
  } catch (err) {
    if (permissionDenied(err) !== null) return false;
    throw new ApiError(503, 'LF_STORE', `cannot ask NATS whether this user may read runs: ${errorMessage(err)}`);
  }
}

/** The probe's answer, asked again once it is older than READ_RECHECK_MS (one probe in flight at a time). */
export function cachedReadAccess(probe: () => Promise<boolean>, now: () => number = Date.now): () => Promise<boolean> {
  let answer: { allowed: boolean; at: number } | null = null;
  let pending: Promise<boolean> | null = null;
  return () => {
    if (answer && now() - answer.at < READ_RECHECK_MS) return Promise.resolve(answer.allowed);
    pending ??= probe().then(
      (allowed) => {
        answer = { allowed, at: now() };
        pending = null;
        return allowed;
      },
      (err: unknown) => {
        pending = null;
        throw err;
      },
    );
    return pending;
  };
}
