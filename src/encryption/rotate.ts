/**
 * `ledgerflow keys rotate`: a new data key becomes LF_DATA_KEY (new writes use it); the one it replaces is kept as
 * LF_DATA_KEY_<its id>, so everything it sealed still opens. Nothing stored is rewritten.
 */
import type { SecretsStore } from '../secrets/index.js';
import { DATA_KEY_SECRET, keySecretName, newDataKeyText, parseDataKey } from './keys.js';

export interface RotateResult {
  /** The new key's id (what new writes record). */
  id: string;
  /** The key it replaced, kept by id; null when there was none (the first key). */
  previous: string | null;
}

export async function rotateDataKey(secrets: SecretsStore, newKey: string = newDataKeyText()): Promise<RotateResult> {
  const next = parseDataKey(newKey, 'the new key');
  const old = await secrets.get(DATA_KEY_SECRET);
  let previous: string | null = null;
  if (old !== undefined && old.trim() !== '') {
    const key = parseDataKey(old, DATA_KEY_SECRET);
    // Kept before the new one is set: a crash in between leaves the old key current and kept, never lost.
    await secrets.set(keySecretName(key.id), old.trim());
    previous = key.id;
  }
  await secrets.set(DATA_KEY_SECRET, newKey);
  return { id: next.id, previous };
}
