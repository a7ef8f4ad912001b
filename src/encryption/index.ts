/**
 * Encryption at rest (docs/security.md): every payload field of every event, the snapshots' contexts and the large
 * payloads' bodies sealed with AES-256-GCM under the data key among the secrets (LF_DATA_KEY), by decorators over
 * the store ports; ids, statuses, task names and times stay clear.
 */
export { encryptedStore, readWithoutKey, ringOf, type EncryptedStoreInfo } from './event-store.js';
export { encryptedSnapshots } from './snapshots.js';
export { encryptedBlobs } from './blobs.js';
export { natsKeyProvider, withDataKeys } from './provider.js';
export {
  DATA_KEY_SECRET,
  KeyRing,
  MISSING_KEY_RETRY_MS,
  keySecretName,
  newDataKeyText,
  parseDataKey,
  type DataKey,
  type KeyLookup,
} from './keys.js';
export { REDACTED, SEALED_KEY, isSealedText, isSealedValue } from './cipher.js';
export { sealEvent } from './events.js';
export { rotateDataKey, type RotateResult } from './rotate.js';
export { openAttempt, openOutcome, sealAttempt, sealOutcome } from './wire.js';
export { sealedProgress } from './progress.js';
export { IndexSealer } from './index-values.js';
