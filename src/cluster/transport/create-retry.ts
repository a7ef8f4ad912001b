import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV, KvOptions } from '@nats-io/kv';
import { errorMessage } from '../../errors/index.js';
import { apiErrorCode, ERR_STREAM_NAME_IN_USE, Kvm, StorageType } from '../../store/index.js';
/**
 * Creating a stream, consumer or bucket with several replicas takes a raft group to form on as many nodes: on a 3-node
 * cluster under load that can outlast a request's timeout (5 s), above all when several engines start at once and
 * create the same things. A timed-out create is an unknown outcome, not a failure: it may well complete. Creates are
 * idempotent (an existing stream with the same config is fine), so ask again until `budgetMs`.
 */
const RETRIABLE = /^(TIMEOUT|503)$/;

function retriable(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return RETRIABLE.test(code) || /timeout|no responders/i.test(errorMessage(err) ?? '');
}

export async function createRetrying<T>(op: () => Promise<T>, budgetMs = 30_000, retry = retriable): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!retry(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** A KV bucket of one value per key, made with the cluster's `replicas` and `storage` (and `extra`) unless it exists, as createRetrying asks. */
export function createBucket(
  js: JetStreamClient,
  name: string,
  s: { replicas?: number; storage?: 'file' | 'memory' },
  extra: Partial<KvOptions> = {},
): Promise<KV> {
  return createRetrying(() =>
    new Kvm(js)
      .create(name, {
        history: 1,
        replicas: s.replicas ?? 1,
        storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
        ...extra,
      })
      .catch((err: unknown) => {
        // Made meanwhile by another process (an engine and a client starting at once), which may have bounded it
        // since (AttemptLedger.ensure updates its config): a create with the first config then fails. It is there: opened.
        if (apiErrorCode(err) !== ERR_STREAM_NAME_IN_USE) throw err;
        return new Kvm(js).open(name);
      }),
  );
}
