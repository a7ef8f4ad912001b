/**
 * What the run index needs of encryption at rest (docs/security.md#the-run-index): the events it folds opened (the
 * process that writes the index holds the key), and what it keeps that comes from a value (a search attribute's value,
 * the output's text, the one-line result, a run's folded context) sealed before it is written and opened when it is
 * read back. A reader without the key gets `[encrypted]` for those, and everything else (ids, statuses, task names,
 * times, counts) as the key's holder folded it.
 */
import { DataKeyError } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import { REDACTED, bodyOf, isSealedText, isSealedValue, openText, sealText, sealedKeyId } from './cipher.js';
import { openEvent, sealedKeyIds } from './events.js';
import { ringOf } from './event-store.js';
import { PAYLOAD_FIELDS, getAt } from './fields.js';
import type { DataKey, KeyRing } from './keys.js';

/** Sealed index values are bound to their run and field: `<runId>\nindex.<field>`. */
const aadOf = (runId: string, field: string): string => `${runId}\nindex.${field}`;

export class IndexSealer {
  /** A value this process could not open (no key, or not the one): it saw `[encrypted]`, so it must not write back. */
  sawSealed = false;
  /** A value sealed with a key this process has not loaded yet (loadMissing asks for it): its record is not read yet. */
  stale = false;
  /** The ids of the keys of such values, for loadMissing. */
  private readonly missing = new Set<string>();

  private constructor(
    private readonly ring: KeyRing,
    /** The key new writes use; null: this process has none (it reads, it does not seal). */
    readonly key: DataKey | null,
  ) {}

  /** The sealer of an encrypting store (encryptedStore / withDataKeys), or null for a store that never encrypts. */
  static async of(store: EventStore): Promise<IndexSealer | null> {
    const ring = ringOf(store);
    if (!ring) return null;
    return new IndexSealer(ring, await ring.current());
  }

  /** The events opened, to be folded; only called with a key (without one the index folds what is stored). */
  async open(runId: string, events: EventEnvelope[]): Promise<EventEnvelope[]> {
    const ids = sealedKeyIds(events);
    if (ids.size === 0) return events;
    await this.ring.load(ids);
    return events.map((ev) =>
      openEvent(ev, (id) => {
        const key = this.ring.cached(id);
        if (key) return key;
        throw new DataKeyError(
          'LF_DATA_KEY_MISSING',
          `run ${ev.runId || runId} holds values sealed with data key ${id}, which no secrets provider has: set LF_DATA_KEY_${id} (the key it was before a rotation) where LF_DATA_KEY is set`,
          { keyId: id, runId: ev.runId || runId },
        );
      }),
    );
  }

  /** Whether any payload field of these events is sealed (a reader without the key folding them: noted in sawSealed). */
  noteSealed(events: readonly EventEnvelope[]): void {
    if (this.sawSealed) return;
    for (const ev of events) {
      const fields = PAYLOAD_FIELDS[ev.type];
      if (!fields) continue;
      for (const f of fields) {
        const v = getAt(ev, f.path);
        if (isSealedText(v) || isSealedValue(v)) {
          this.sawSealed = true;
          return;
        }
      }
    }
  }

  /** A text sealed with the current key (as is without one). */
  sealText(runId: string, field: string, text: string): string {
    return this.key && !isSealedText(text) ? sealText(this.key, aadOf(runId, field), text) : text;
  }

  /** Any JSON value sealed to a text with the current key (as is without one). */
  sealJson(runId: string, field: string, value: unknown): unknown {
    return this.key ? sealText(this.key, aadOf(runId, field), JSON.stringify(value)) : value;
  }

  /** A text as read back: opened, or `[encrypted]` when this process has not its key. */
  openText(runId: string, field: string, v: string): string {
    if (!isSealedText(v)) return v;
    const key = this.keyOf(v);
    return key ? openText(key, aadOf(runId, field), bodyOf(v), { run: runId, field: `index.${field}` }) : REDACTED;
  }

  /** A value sealed by sealJson, as read back: opened, or `[encrypted]`. */
  openJson(runId: string, field: string, v: unknown): unknown {
    if (!isSealedText(v)) return v;
    const key = this.keyOf(v);
    if (!key) return REDACTED;
    return JSON.parse(openText(key, aadOf(runId, field), bodyOf(v), { run: runId, field: `index.${field}` }));
  }

  /**
   * Loads the keys of the values that came back stale (a key from before a rotation, which this process had not loaded:
   * index values are opened synchronously, so a reader loads them here and decodes those values again: opened, or
   * `[encrypted]` where no provider had the key). False when there were none.
   */
  async loadMissing(): Promise<boolean> {
    if (this.missing.size === 0) return false;
    const ids = new Set(this.missing);
    this.missing.clear();
    await this.ring.load(ids);
    return true;
  }

  private keyOf(v: string): DataKey | null {
    const id = sealedKeyId(bodyOf(v)) ?? '?';
    const key = this.ring.cached(id);
    if (key) return key;
    // A key no provider had when loadMissing just asked (lost since a rotation): `[encrypted]`, as for a reader with
    // no key, so the run stays listed with what is clear (ids, status, times) rather than dropped.
    if (this.key && !this.ring.isMissing(id)) {
      this.stale = true;
      this.missing.add(id);
    } else this.sawSealed = true;
    return null;
  }
}
