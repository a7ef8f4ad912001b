/** Secrets: providers (environment, file, NATS KV) and what an attempt's edge does with them (docs/operations.md#secrets). */
export {
  type SecretsProvider,
  type SecretsStore,
  checkSecretName,
  checkSecretsFile,
  allValues,
  chainSecrets,
  defaultSecrets,
  envSecrets,
  fileSecrets,
} from './providers.js';
export { applySecrets } from './apply.js';
export { type Masker, MIN_ENCODED_SECRET, NO_MASK, masker } from './mask.js';
export { kvSecrets } from './kv.js';
