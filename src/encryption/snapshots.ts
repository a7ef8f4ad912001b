/**
 * The SnapshotStore decorator of encryption at rest: a snapshot's folded context (the run's input and every output so
 * far) sealed as one value, bound to its run and event; the definition and the fold's state stay clear. A snapshot is
 * never authoritative (the loader checks it against the log), so one this process cannot open is no snapshot: without
 * a key `get` returns null and the run is folded from its log.
 */
import type { SnapshotStore, StoredSnapshot } from '../store/index.js';
import { isSealedValue, openText, sealValue, sealedKeyId } from './cipher.js';
import type { KeyRing } from './keys.js';

const aadOf = (s: Pick<StoredSnapshot, 'runId' | 'seq'>) => `${s.runId}\n${s.seq}\nsnapshot.fold.context`;

export function encryptedSnapshots(inner: SnapshotStore, ring: KeyRing): SnapshotStore {
  return {
    async get(runId) {
      const s = await inner.get(runId);
      if (s === null || !isSealedValue(s.fold.context)) return s;
      const body = s.fold.context['lf:enc'];
      const id = sealedKeyId(body) ?? '?';
      await ring.load([id]);
      const key = ring.cached(id);
      if (!key) return null;
      const clear = openText(key, aadOf(s), body, { run: runId, snapshot: String(s.seq) });
      return { ...s, fold: { ...s.fold, context: JSON.parse(clear) as Record<string, unknown> } };
    },
    async put(snapshot) {
      const key = await ring.current();
      if (!key) return inner.put(snapshot);
      const context = sealValue(key, aadOf(snapshot), snapshot.fold.context);
      return inner.put({ ...snapshot, fold: { ...snapshot.fold, context } });
    },
    delete: (runId) => inner.delete(runId),
    close: () => inner.close(),
  };
}
