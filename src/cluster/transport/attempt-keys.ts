/**
 * Attempts signed by the engines (a fake offer from a server that had joined the cluster made a `--commands` worker
 * run `sh -c id`). Every attempt an engine hands out, queued or offered, carries the header Lf-Attempt-Sig: an Ed25519
 * signature of its body (attempt-tokens.ts). The public key is in KV LF_KEYS (key `attempts`), which only engines
 * write and workers read by key; a worker may be given it instead (LEDGERFLOW_ATTEMPT_KEY), trusting nothing the
 * cluster says. A worker runs no attempt whose signature does not verify: queued, dead-lettered; offered, not taken.
 */
import { createPublicKey, verify as edVerify, type KeyObject } from 'node:crypto';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, jetstream } from '../../store/index.js';
import type { AttemptTokens } from './attempt-tokens.js';
import { createBucket, createRetrying } from './create-retry.js';
import { errorMessage } from '../../errors/index.js';
import { leafHash, parentHash, parseBatchHeader, rootMessage } from './attempt-batch.js';
import { trimOldest } from '../../bounded.js';
import { ATTEMPT_MAC_HEADER, EXCHANGE_KEY, WorkerSession } from './attempt-sessions.js';

export const KEYS_BUCKET = 'LF_KEYS';
const ATTEMPTS_KEY = 'attempts';
export const ATTEMPT_SIG_HEADER = 'Lf-Attempt-Sig';
/** Ed25519's SPKI DER header, before its 32-byte public key. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Engines: makes LF_KEYS if missing and puts the attempts' public key there (the same from every engine). */
export async function publishAttemptKey(
  js: JetStreamClient,
  tokens: AttemptTokens,
  s: { replicas?: number; storage?: 'file' | 'memory' } = {},
): Promise<void> {
  const kv = await createBucket(js, KEYS_BUCKET, s, { allow_direct: true });
  // The exchange key first: a worker that reads the attempts' key finds it there too (attempt-sessions.ts).
  for (const [key, value] of [
    [EXCHANGE_KEY, tokens.sessions().record((data) => tokens.sign(data))],
    [ATTEMPTS_KEY, tokens.publicKey()],
  ] as const) {
    if ((await kv.get(key).catch(() => null))?.string() !== value) await createRetrying(() => kv.put(key, value));
  }
}

/**
 * Hashes a worker found in the tree of a batch whose root verified (attempt-batch.ts), kept: each is the engines'
 * (it hashes into a root they signed), so the next offer of the batch is taken once its path meets one.
 */
const TRUSTED_KEPT = 8192;

export class AttemptVerifier {
  /** Trusted hashes (latin1 strings of their 32 bytes), oldest first. */
  private readonly trusted = new Set<string>();
  /** The session attempts carried in a report's answer are sealed for (attempt-sessions.ts); null: signed ones only. */
  session: WorkerSession | null = null;

  private constructor(private readonly key: KeyObject) {}

  /** From LEDGERFLOW_ATTEMPT_KEY when set, else from LF_KEYS, waiting (with `log`) until an engine has put it there. */
  static async open(
    nc: NatsConnection,
    o: { pinned?: string; stopped: () => boolean; log: (line: string) => void },
  ): Promise<AttemptVerifier | null> {
    if (o.pinned) return new AttemptVerifier(keyOf(o.pinned, 'LEDGERFLOW_ATTEMPT_KEY')).withSession(nc, o.log);
    let said = false;
    // Asked often at first (a worker started with its engines must not miss a run's first seconds), then less.
    for (let tries = 0; !o.stopped(); tries++) {
      const pause = tries < 40 ? 250 : 5000;
      const got = await readKey(nc).catch((err: unknown) => {
        if (!said)
          o.log(
            `the engines' attempt key (KV ${KEYS_BUCKET}, key ${ATTEMPTS_KEY}): ${errorMessage(err)}; waiting (nats.conf must give this worker user "$JS.API.DIRECT.GET.KV_${KEYS_BUCKET}.$KV.${KEYS_BUCKET}.${ATTEMPTS_KEY}")`,
          );
        said = true;
        return null;
      });
      if (got) {
        // Said it was waiting: say it no longer is, or the last word in the worker's log is that it waits.
        if (said) o.log(`the engines' attempt key found (KV ${KEYS_BUCKET}, key ${ATTEMPTS_KEY}): taking attempts`);
        return new AttemptVerifier(keyOf(got, `KV ${KEYS_BUCKET}`)).withSession(nc, o.log);
      }
      await new Promise((r) => setTimeout(r, pause));
    }
    return null;
  }

  /**
   * The session, from the engines' exchange key in LF_KEYS when they put one there signed with this key (engines
   * from before sessions did not: then none, and carried attempts come signed).
   */
  private async withSession(nc: NatsConnection, log: (line: string) => void): Promise<AttemptVerifier> {
    const record = await readKey(nc, EXCHANGE_KEY).catch(() => null);
    this.session = record ? WorkerSession.from(record, this.key) : null;
    if (record && !this.session)
      log(
        `KV ${KEYS_BUCKET} key ${EXCHANGE_KEY} is not signed with the engines' attempt key: attempts handed over in answers must come signed`,
      );
    return this;
  }

  /**
   * Whether `data` is an attempt an engine signed (its header's signature verifies, alone or for its batch), or
   * sealed for this worker's session (ATTEMPT_MAC_HEADER, attempt-sessions.ts).
   */
  verify(data: Uint8Array, headers: MsgHdrs | undefined): boolean {
    const mac = headers?.get(ATTEMPT_MAC_HEADER);
    if (mac) return this.session?.verify(data, mac) === true;
    const sig = headers?.get(ATTEMPT_SIG_HEADER);
    if (!sig) return false;
    if (/^[A-Za-z0-9_-]{86}$/.test(sig)) return edVerify(null, data, this.key, Buffer.from(sig, 'base64url'));
    const batch = parseBatchHeader(sig);
    if (!batch) return false;
    // Up the path to the root, or to the first hash already known to be the engines'.
    const seen: Buffer[] = [];
    let hash = leafHash(data);
    let level = 0;
    for (; !this.trusted.has(hash.toString('latin1')); level++) {
      if (level === batch.path.length) {
        if (!edVerify(null, rootMessage(hash), this.key, Buffer.from(batch.signature, 'base64url'))) return false;
        break;
      }
      const sibling = batch.path[level]!;
      seen.push(hash, sibling);
      hash = parentHash(hash, sibling, ((batch.index >> level) & 1) === 1);
    }
    seen.push(hash);
    for (const h of seen) this.trust(h.toString('latin1'));
    return true;
  }

  private trust(hash: string): void {
    if (this.trusted.has(hash)) return;
    this.trusted.add(hash);
    trimOldest(this.trusted, TRUSTED_KEPT);
  }
}

async function readKey(nc: NatsConnection, key = ATTEMPTS_KEY): Promise<string | null> {
  // A short timeout: a bucket not made yet answers nothing, and the next ask comes soon.
  const kv = await new Kvm(jetstream(nc, { timeout: 1000 })).create(KEYS_BUCKET, {
    bindOnly: true,
    allow_direct: true,
  });
  return (await kv.get(key))?.string() || null;
}

function keyOf(text: string, where: string): KeyObject {
  const raw = Buffer.from(text.trim(), 'base64url');
  if (raw.length !== 32)
    throw new Error(
      `${where}: the engines' attempt key is 32 bytes in base64url (as in KV ${KEYS_BUCKET}, key ${ATTEMPTS_KEY}), got ${raw.length} bytes`,
    );
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}
