/**
 * Where a process finds its data keys: the same providers `${secrets.NAME}` reads (docs/operations.md#secrets): the
 * file LEDGERFLOW_SECRETS_FILE (or a command's `--secrets`), the environment (`LEDGERFLOW_SECRET_LF_DATA_KEY`), and on
 * NATS the KV bucket LF_SECRETS, asked lazily (on the first append or sealed read), never at open.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { allValues, chainSecrets, defaultSecrets, kvSecrets, type SecretsProvider } from '../secrets/index.js';
import type { EventStore } from '../store/index.js';
import { encryptedStore } from './event-store.js';
import { KeyRing } from './keys.js';

/** A provider asking NATS KV LF_SECRETS (over a connection made when first asked) before the local ones. */
export function natsKeyProvider(
  connection: () => Promise<NatsConnection>,
  local: SecretsProvider = defaultSecrets(),
): SecretsProvider {
  let kv: SecretsProvider | undefined;
  // A person's user may not read LF_SECRETS (nats.conf): a reader without the key, who sees `[encrypted]`, unless
  // their own file or environment has it. Anything else (NATS down) is thrown: an engine must never take "not asked"
  // for "no key" and write clear.
  const orLocal = async <T>(ask: (p: SecretsProvider) => Promise<T>): Promise<T> => {
    kv ??= chainSecrets(kvSecrets(await connection()), local);
    try {
      return await ask(kv);
    } catch (err) {
      if (!/permission|authorization/i.test(String((err as Error)?.message ?? err))) throw err;
      return ask(local);
    }
  };
  return {
    label: `NATS KV LF_SECRETS, then ${local.label}`,
    get: (name) => orLocal((p) => p.get(name)),
    getAll: (name) => orLocal((p) => allValues(p, name)),
  };
}

/**
 * The store, encrypting at rest with the keys `secrets` has (default: LEDGERFLOW_SECRETS_FILE then the environment;
 * a JetStream store asks its KV LF_SECRETS first). With no LF_DATA_KEY anywhere it writes clear, as before, and reads
 * sealed values as `[encrypted]`.
 */
export function withDataKeys<S extends EventStore>(store: S, secrets?: SecretsProvider): S {
  const conn = (store as unknown as { connection?: () => Promise<NatsConnection> }).connection;
  const provider = secrets ?? (typeof conn === 'function' ? natsKeyProvider(() => conn.call(store)) : defaultSecrets());
  return encryptedStore(
    store,
    new KeyRing(
      (name) => provider.get(name),
      undefined,
      (name) => allValues(provider, name),
    ),
  );
}
