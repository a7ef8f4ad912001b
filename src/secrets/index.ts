/** Secrets: providers (environment, file, NATS KV) and what an attempt's edge does with them (docs/operations.md#secrets). */
export { type SecretsProvider, type SecretsStore, SECRET_ENV_PREFIX, checkSecretName, checkSecretsFile, chainSecrets, defaultSecrets, envSecrets, fileSecrets } from './providers.js';
export { type WithSecrets, applySecrets } from './apply.js';
export { type Masker, MIN_ENCODED_SECRET, NO_MASK, masker } from './mask.js';
export { SECRETS_BUCKET, kvSecrets } from './kv.js';
