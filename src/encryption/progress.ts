/**
 * Live progress sealed at rest like the events' payloads: a progress message may quote what a task works on ("scanned
 * invoice-7731.pdf"), so with a data key its text is sealed before it reaches the channel (the embedded store's
 * `progress/` files, NATS KV LF_PROGRESS) and opened by readers that hold the key; a reader without it sees
 * `[encrypted]`. The fraction and times stay clear, as statuses and times do in the log.
 */
import type { ProgressChannel } from '../progress/index.js';
import type { LiveProgress } from '../progress/index.js';
import { bodyOf, isSealedText, openText, REDACTED, sealText, sealedKeyId } from './cipher.js';
import type { KeyRing } from './keys.js';

/** Binds a sealed message to its attempt: one copied onto another attempt's value does not open. */
const aadOf = (p: Pick<LiveProgress, 'runId' | 'instance' | 'attempt'>): string =>
  `progress\n${p.runId}\n${p.instance}\n${p.attempt}`;

export function sealedProgress(channel: ProgressChannel, ring: KeyRing | null): ProgressChannel {
  if (!ring) return channel;
  const keys = ring;
  return {
    async put(p) {
      const key = p.message === undefined ? null : await ring.current();
      await channel.put(key ? { ...p, message: sealText(key, aadOf(p), p.message!) } : p);
    },
    remove: (p) => channel.remove(p),
    read: async (runId) => openAll(await channel.read(runId)),
    watch(runId, onChange) {
      // Opened in order (a key may be loaded first): a later change is never told before an earlier one.
      let chain = Promise.resolve();
      return channel.watch(runId, (values) => {
        chain = chain
          .then(async () => onChange(await openAll(values).catch(() => values.map(redacted))))
          .catch(() => undefined);
      });
    },
    ...(channel.sweep ? { sweep: (runId, before) => channel.sweep!(runId, before) } : {}),
  };

  async function openAll(values: LiveProgress[]): Promise<LiveProgress[]> {
    const ids = values.flatMap((p) => (isSealedText(p.message) ? [sealedKeyId(bodyOf(p.message)) ?? '?'] : []));
    if (ids.length === 0) return values;
    await keys.load(ids);
    return values.map((p) => {
      if (!isSealedText(p.message)) return p;
      const key = keys.cached(sealedKeyId(bodyOf(p.message)) ?? '?');
      if (!key) return { ...p, message: REDACTED };
      try {
        const where = { run: p.runId, field: `progress of ${p.instance}` };
        return { ...p, message: openText(key, aadOf(p), bodyOf(p.message), where) };
      } catch {
        // Ephemeral and replaced by the next report: a value that does not open is shown as one that cannot be read.
        return { ...p, message: REDACTED };
      }
    });
  }
}

/** A value whose message is shown as one that cannot be read (its key could not be loaded). */
const redacted = (p: LiveProgress): LiveProgress => (isSealedText(p.message) ? { ...p, message: REDACTED } : p);
