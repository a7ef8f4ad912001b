/**
 * A role one process of the cluster holds at a time, kept in its entry of KV LF_ADMISSION (the bucket of exclusive.ts):
 * created by the first to ask, renewed every RENEW_MS by its holder, and taken over by another once the entry has not
 * moved for ROLE_STALE_MS as that process saw it (its own clock only: no two clocks compared), or at once when it
 * names a process gone from this machine. A holder that stops deletes it, so a standby takes it within RENEW_MS.
 *
 * A role here is an economy, never what keeps data right: two holders at once (a holder paused past ROLE_STALE_MS, a
 * partition) must be harmless, and a holder learns it lost the role at its next renewal. The run index projection
 * holds one (query/jetstream-projection.ts): every engine pulling from its shared consumer split a run's commits
 * between them, each then rebuilding the record from the log it found a gap in.
 */
import { randomUUID } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { errorMessage } from '../../errors/index.js';
import { deadHere, holderText, lostRace } from './exclusive.js';

/** How often the holder renews its entry, and a standby looks at it. */
export const RENEW_MS = 2_000;
/**
 * An entry that has not moved for this long (five renewals missed) belongs to a holder that died or stalled. Short, as
 * taking over early costs only a while of two holders; waiting costs the index's freshness (readers then read the log).
 */
export const ROLE_STALE_MS = 10_000;

export interface Role {
  /** Whether this process holds the role now (as of its last renewal or look). */
  held(): boolean;
  /**
   * Whether its last round failed (the server unreachable, or the bucket refused: a user that may not use
   * LF_ADMISSION). A caller whose work is still right with several doing it may do it meanwhile, as before roles.
   */
  failing(): boolean;
  /** Called with true when this process takes the role, false when it loses it. */
  onChange(fn: (held: boolean) => void): void;
  /** Stops renewing or looking; the role, held, is given up (its entry deleted). */
  stop(): Promise<void>;
}

export interface RoleTimers {
  now(): number;
  every(ms: number, fn: () => void): () => void;
}

const realTimers: RoleTimers = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};

export function holdRole(
  kv: () => Promise<KV>,
  name: string,
  log: (line: string) => void,
  timers: RoleTimers = realTimers,
): Role {
  const holder = holderText(randomUUID());
  let revision = 0;
  /** The entry's revision as last seen by a standby, and when this process first saw it. */
  let seen: { revision: number; at: number } | null = null;
  let stopped = false;
  let busy: Promise<void> | null = null;
  const listeners: ((held: boolean) => void)[] = [];
  const become = (rev: number) => {
    const was = revision !== 0;
    revision = rev;
    if (was !== (rev !== 0)) for (const fn of listeners) fn(rev !== 0);
  };

  /** A write another process's entry refused: not this one's (0); any other failure is the round's. */
  const lost = (err: unknown): Promise<number> => (lostRace(err) ? Promise.resolve(0) : Promise.reject(err));
  const round = async (): Promise<void> => {
    const bucket = await kv();
    // Renewed; or taken over by another (this one stalled past ROLE_STALE_MS): given up. Any other failure (a
    // disconnect) is tried again next round: if it lasts, a standby takes over and this update then fails as lost.
    if (revision !== 0) return become(await bucket.update(name, holder, revision).catch(lost));
    const e = await bucket.get(name);
    // Ours after all: a create whose reply was lost (a timeout), stored all the same.
    if (e?.operation === 'PUT' && e.string() === holder) return become(e.revision);
    if (!e || e.operation !== 'PUT') return become(await bucket.create(name, holder).catch(lost));
    const now = timers.now();
    if (!seen || seen.revision !== e.revision) seen = { revision: e.revision, at: now };
    if (now - seen.at >= ROLE_STALE_MS || deadHere(e.string()))
      become(await bucket.update(name, holder, e.revision).catch(lost));
  };
  /** Whether the last round failed: a failure is said once, not every round while it lasts (a server down). */
  let failing = false;
  const tick = () => {
    if (stopped || busy) return;
    busy = round()
      .then(
        () => {
          if (failing) log(`role ${name}: answered again`);
          failing = false;
        },
        (err: unknown) => {
          if (!failing) log(`role ${name}: ${errorMessage(err)}; trying every ${RENEW_MS / 1000} s`);
          failing = true;
        },
      )
      .finally(() => {
        busy = null;
      });
  };
  const cancel = timers.every(RENEW_MS, tick);
  tick();

  return {
    held: () => revision !== 0,
    failing: () => failing,
    onChange: (fn) => listeners.push(fn),
    async stop() {
      stopped = true;
      cancel();
      await busy;
      if (revision === 0) return;
      const rev = revision;
      become(0);
      // Best effort: not deleted (the server away), a standby takes it once it has not moved for ROLE_STALE_MS.
      await kv()
        .then((bucket) => bucket.delete(name, { previousSeq: rev }))
        .catch(() => undefined);
    },
  };
}
