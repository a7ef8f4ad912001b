/**
 * Events sealed and opened field by field (fields.ts): what the store decorator applies to each commit it appends
 * and to each event it reads. An event without payload fields, or a log written before encryption, passes unchanged.
 */
import { DataKeyError } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import { REDACTED, bodyOf, isSealedText, isSealedValue, openText, sealText, sealValue, sealedKeyId } from './cipher.js';
import { PAYLOAD_FIELDS, aadOf, getAt, setAt } from './fields.js';
import type { DataKey } from './keys.js';

/**
 * The event with its payload fields sealed, in one pass: the envelope and each object on a field's path copied once
 * for the whole event, not once a field (setAt copies the path at every call), and nothing copied when nothing is
 * sealed. The caller's event is not changed (it keeps its clear values).
 */
export function sealEvent(ev: EventEnvelope, key: DataKey): EventEnvelope {
  const fields = PAYLOAD_FIELDS[ev.type];
  if (!fields) return ev;
  let out: Record<string, unknown> | null = null;
  /** Objects of `out` already copied (so written in place): the envelope and those below it on a sealed path. */
  let copied: unknown[] = [];
  for (const field of fields) {
    const v = getAt(ev, field.path);
    if (v === undefined || isSealedText(v) || isSealedValue(v)) continue;
    let sealed: unknown;
    if (field.kind === 'text') {
      if (typeof v !== 'string') continue;
      sealed = sealText(key, aadOf(ev, field), v);
    } else sealed = sealValue(key, aadOf(ev, field), v);
    if (out === null) {
      out = { ...(ev as unknown as Record<string, unknown>) };
      copied = [out];
    }
    let o = out;
    const last = field.path.length - 1;
    for (let i = 0; i < last; i++) {
      const k = field.path[i]!;
      let next = o[k] as Record<string, unknown>;
      if (!copied.includes(next)) {
        next = { ...next };
        o[k] = next;
        copied.push(next);
      }
      o = next;
    }
    o[field.path[last]!] = sealed;
  }
  return out === null ? ev : (out as unknown as EventEnvelope);
}

/** The ids of the keys the sealed fields of these events name (empty: nothing sealed). */
export function sealedKeyIds(events: readonly EventEnvelope[]): Set<string> {
  const ids = new Set<string>();
  for (const ev of events) {
    const fields = PAYLOAD_FIELDS[ev.type];
    if (!fields) continue;
    for (const field of fields) {
      const v = getAt(ev, field.path);
      if (isSealedText(v) || isSealedValue(v)) ids.add(sealedKeyId(bodyOf(v)) ?? '?');
    }
  }
  return ids;
}

/** What to do with a sealed field: open it with its key, or show `[encrypted]` (a reader without keys). */
export type Opener = (id: string) => DataKey | 'redact';

/**
 * The event with its sealed fields opened; `keyFor` gives each field's key (loaded before), or 'redact'. Throws
 * DataKeyError LF_DECRYPT_FAILED for a field that does not open, LF_DATA_KEY_MISSING for a key id nobody has.
 */
export function openEvent(ev: EventEnvelope, keyFor: Opener): EventEnvelope {
  const fields = PAYLOAD_FIELDS[ev.type];
  if (!fields) return ev;
  let out = ev;
  for (const field of fields) {
    const v = getAt(ev, field.path);
    const text = isSealedText(v);
    if (!text && !isSealedValue(v)) continue;
    const body = bodyOf(v as string);
    const id = sealedKeyId(body) ?? '?';
    const key = keyFor(id);
    if (key === 'redact') {
      out = setAt(out, field.path, redactedOf(field.path));
      continue;
    }
    const where = { run: ev.runId, event: String(ev.seq), field: field.label };
    const clear = openText(key, aadOf(ev, field), body, where);
    out = setAt(out, field.path, text ? clear : parseJson(clear, where, key.id));
  }
  return out;
}

/** `[encrypted]`, shaped as the field's schema wants: a record for an input or a map of outputs. */
function redactedOf(path: readonly string[]): unknown {
  const last = path[path.length - 1];
  return last === 'input' || last === 'outputs' || last === 'context' ? { [REDACTED]: true } : REDACTED;
}

function parseJson(text: string, where: Record<string, string>, keyId: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DataKeyError(
      'LF_DECRYPT_FAILED',
      `a sealed value (${where.field} of event ${where.event}) opened to no JSON`,
      {
        keyId,
        ...where,
      },
    );
  }
}
