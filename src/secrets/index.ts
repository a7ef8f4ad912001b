/** Secrets: providers (environment, file, NATS KV) and what an attempt's edge does with them (docs/operations.md#secrets). */
export { type SecretsProvider, type SecretsStore, SECRET_ENV_PREFIX, checkSecretName, checkSecretsFile, chainSecrets, defaultSecrets, envSecrets, fileSecrets } from './providers.js';
export { type Masker, type WithSecrets, NO_MASK, applySecrets, masker } from './apply.js';
export { SECRETS_BUCKET, kvSecrets } from './kv.js';
