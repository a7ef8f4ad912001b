/**
 * EventStore.exclusive on JetStream: one KV entry per name in the bucket LF_ADMISSION, created at revision 0 (kv.create
 * fails while another holder's entry stands) and deleted at that revision when done. A holder that died leaves its
 * entry: it is taken over (kv.update at its revision, so only one waiter wins) once older than STALE_MS, or at once
 * when it names a process that is gone and whose pid this process can judge (the same boot of the same kernel, the same
 * pid namespace: a CLI killed mid-way, whose next call need not wait), and the bucket's max age drops it anyway. Every engine and client of the cluster meets the same entries, so admission
 * decisions (limits/admission.ts) never overlap, whichever process or node is lost. Roles a process holds for as
 * long as it lives (role.ts: which engine keeps the run index) are entries of the same bucket, renewed by their holder.
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import { StoreError, errorMessage } from '../../errors/index.js';
import { kvRetrying, StoreBucket } from './kv-retry.js';
import { isAmbiguous, toStoreError } from './codec.js';
import { pidAlive } from '../pid-state.js';
import { BOOT } from '../journal.js';

export const ADMISSION_BUCKET = 'LF_ADMISSION';
/** A decision takes milliseconds; an entry this old belongs to a holder that died mid-way. */
const STALE_MS = 15_000;
/** Waiting longer than this for a live holder is an error (StoreError), never a silent skip. */
const WAIT_MS = 60_000;

/** Another holder's entry stands (or another waiter took it over first). */
export const lostRace = (err: unknown): boolean => /wrong last sequence|key exists/i.test(errorMessage(err));

export class KvExclusive extends StoreBucket {
  constructor(connection: () => Promise<NatsConnection>, opts: { replicas?: number; memory?: boolean } = {}) {
    super(connection, ADMISSION_BUCKET, { ...opts, ttl: 4 * STALE_MS });
  }

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const kv = await this.kv();
    // Unique to this holder: a create whose reply was lost is resolved by reading whose the entry is.
    const holder = holderText(randomUUID());
    const giveUpAt = Date.now() + WAIT_MS;
    let revision = 0;
    for (let pause = 2; revision === 0; pause = Math.min(pause * 2, 100)) {
      let unknown = false;
      try {
        revision = await kvRetrying(`lock ${name} in KV ${ADMISSION_BUCKET}`, () => kv.create(name, holder), {
          passes: (err) => lostRace(err) || isAmbiguous(err),
          write: true,
        });
        break;
      } catch (err) {
        // A create the server may or may not have stored (its reply timed out, under load): not asked again blindly.
        unknown = isAmbiguous(err);
        if (!lostRace(err) && !unknown) throw toStoreError(err, `lock ${name} in KV ${ADMISSION_BUCKET}`, {});
      }
      const e = await kvRetrying(`lock ${name} in KV ${ADMISSION_BUCKET}`, () => kv.get(name));
      // Ours after all: the create was stored, only its reply was lost.
      if (unknown && e && e.operation === 'PUT' && e.string() === holder) {
        revision = e.revision;
        break;
      }
      if (e && e.operation === 'PUT' && (Date.now() - e.created.getTime() > STALE_MS || deadHere(e.string()))) {
        // Lost to another waiter (or an unknown outcome): the loop reads again.
        revision = await kv.update(name, holder, e.revision).catch(() => 0);
        if (revision !== 0) break;
      }
      if (Date.now() > giveUpAt)
        throw new StoreError(`lock ${name} in KV ${ADMISSION_BUCKET} held for over ${WAIT_MS} ms`, { name });
      await sleep(pause);
    }
    try {
      return await fn();
    } finally {
      await kv.delete(name, { previousSeq: revision }).catch(() => undefined);
    }
  }

  /** The bucket: role.ts keeps its roles in it too. */
  kvBucket(): Promise<KV> {
    return this.kv();
  }
}

/** An entry's value: when and by whom it was taken (what deadHere reads). */
export function holderText(id: string): string {
  return JSON.stringify({ at: new Date().toISOString(), id, pids: PIDS, pid: process.pid });
}

/**
 * Where this process's pid means something: this boot of the kernel and its pid namespace (Linux; elsewhere null, and
 * holders are only taken over when stale). Two containers on one host share the boot but not the namespace.
 */
const PIDS: string | null = (() => {
  try {
    return `${BOOT}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return null;
  }
})();

/** Whether a holder's entry names a process that is no longer running where pids are this process's (entries of older versions name none). */
export function deadHere(text: string): boolean {
  if (PIDS === null) return false;
  try {
    const h = JSON.parse(text) as { pids?: unknown; pid?: unknown };
    return h.pids === PIDS && typeof h.pid === 'number' && h.pid !== process.pid && !pidAlive(h.pid);
  } catch {
    return false; // not ours to read: left to STALE_MS
  }
}
