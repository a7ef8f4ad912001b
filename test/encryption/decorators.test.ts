/**
 * The decorators of encryption at rest over the store ports (docs/security.md#what-it-is-exactly): a store below sees
 * only sealed values and the caller only clear ones, a log written before reads unchanged, a follower gets opened
 * events in order, a snapshot's context is sealed, and a large payload's body is sealed in chunks under the digest of
 * its clear JSON (tested on a small in-memory BlobStore that honours put's address, as the real ones must).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataKeyError, encryptedBlobs, encryptedSnapshots, encryptedStore, KeyRing } from '../../src/index.js';
import { PAYLOAD_REF_KEY, type EventEnvelope, type PayloadRef } from '../../src/events/index.js';
import {
  MemoryEventStore,
  MemorySnapshotStore,
  storeAtRest,
  type BlobStore,
  type StoredSnapshot,
} from '../../src/store/index.js';
import { ev } from '../store/helpers.js';
import { waitFor } from '../helpers/wait.js';

const keyText = () => randomBytes(32).toString('base64');
const ringWith = (secrets: Record<string, string>) => new KeyRing(async (name) => secrets[name]);
const SECRET = 'Ottoline-Featherstonehaugh-42';
/** A data key (32 bytes, base64) and three events sealed with it by the format as recorded (see the test using them). */
const GOLDEN_KEY = 'bGVkZ2VyZmxvdyBnb2xkZW4gc2VhbGVkIGxvZyBrZXk=';
const GOLDEN_SEALED = [
  '{"runId":"golden","workflowId":"wf","version":1,"seq":1,"time":"2026-01-01T09:00:01.000Z","state":{"status":"RUNNING","hash":"x"},"type":"run.started","data":{"definition":{},"definitionHash":"h","input":{"lf:enc":"1:08e05ca8897bc93d:L7rwMVLTku_zRkXdVJ5-UTltRyUtTL8w5nvkX_zZ3rPASthXDuGp6s9lSrtygQ"}}}',
  '{"runId":"golden","workflowId":"wf","version":1,"seq":2,"time":"2026-01-01T09:00:02.000Z","state":{"status":"RUNNING","hash":"x"},"type":"task.completed","data":{"task":"t","attempt":1,"output":{"lf:enc":"1:08e05ca8897bc93d:8FCAh2K429TUnc-qPtF7UWzC3uja0-xkKKNRbiqFPs-gawk"},"progress":{"fraction":0.5,"message":"lf:enc:1:08e05ca8897bc93d:nXf1dp-4DEXTY_YqZj8HjzFwECWWxWhzz4qnAC_bRtpq7hvy","at":"2026-01-01T00:00:00.000Z"}}}',
  '{"runId":"golden","workflowId":"wf","version":1,"seq":3,"time":"2026-01-01T09:00:03.000Z","state":{"status":"RUNNING","hash":"x"},"type":"task.failed","data":{"task":"t","attempt":2,"error":{"message":"lf:enc:1:08e05ca8897bc93d:WCGU7Uuvk1H_6eWgB-rKT4V4P4HO79RTdM20C3OLnvJeDFQnTGrl","retryable":false},"progress":{"fraction":0.9,"message":"lf:enc:1:08e05ca8897bc93d:GLIaktiX5dU2gwfBftuJI0HEeTFeLBIOPUI9A7-UB4V1","at":"2026-01-01T00:00:00.000Z"}}}',
];

function events(runId: string): EventEnvelope[] {
  const first = ev(runId, 1);
  return [
    { ...first, data: { ...(first.data as object), input: { who: SECRET } } } as unknown as EventEnvelope,
    ev(runId, 2, { output: { note: SECRET } }),
    {
      ...ev(runId, 3),
      type: 'task.failed',
      data: { task: 't', attempt: 1, error: { message: `no ${SECRET}`, retryable: false } },
    },
  ];
}

describe('the EventStore decorator', () => {
  it('gives every sealed value its own IV, also across the IVs drawn in one go (3,000 values: three pools)', async () => {
    const below = new MemoryEventStore();
    const store = encryptedStore(below, ringWith({ LF_DATA_KEY: keyText() }));
    const appended: EventEnvelope[] = [];
    for (let i = 0; i < 1_000; i++) {
      const runId = `iv-${i}`;
      const evs = events(runId);
      await store.append({ runId, expectedSeq: 0, dedupId: `${runId}/1`, events: evs });
      appended.push(...evs);
    }
    const ivs = new Set<string>();
    let sealed = 0;
    for (let i = 0; i < 1_000; i++) {
      const text = JSON.stringify(await below.read(`iv-${i}`));
      for (const m of text.matchAll(/lf:enc(?::|\\?":\\?")1:[0-9a-f]{16}:([A-Za-z0-9_-]+)/g)) {
        sealed++;
        ivs.add(Buffer.from(m[1]!, 'base64url').subarray(0, 12).toString('hex'));
      }
    }
    expect(sealed).toBe(3_000);
    expect(ivs.size).toBe(3_000);
    // And each still opens to what was appended.
    expect(await store.read('iv-999')).toEqual(appended.slice(-3));
  });

  it('seals on append and opens on read; the store below and the index see ciphertext; the caller keeps its events', async () => {
    const below = new MemoryEventStore();
    const store = encryptedStore(below, ringWith({ LF_DATA_KEY: keyText() }));
    const mine = events('r1');
    const copy = structuredClone(mine);
    await store.append({ runId: 'r1', expectedSeq: 0, dedupId: 'd1', events: mine });
    expect(mine).toEqual(copy);
    expect(JSON.stringify(await below.read('r1'))).not.toContain(SECRET);
    expect(storeAtRest(store)).toBe(below);
    expect(await store.read('r1')).toEqual(copy);
    const all: EventEnvelope[][] = [];
    for await (const r of store.readAll()) all.push(r.events);
    expect(all).toEqual([copy]);
  });

  it('a process running before a rotation reads what the new key sealed (LF_DATA_KEY asked again) and writes on with its own', async () => {
    const below = new MemoryEventStore();
    const k1 = keyText();
    const k2 = keyText();
    const { parseDataKey, MISSING_KEY_RETRY_MS } = await import('../../src/encryption/index.js');
    const [id1, id2] = [parseDataKey(k1, 'k1').id, parseDataKey(k2, 'k2').id];
    // The secrets as a provider has them, changed by `keys rotate` while the first process runs.
    const secrets: Record<string, string> = { LF_DATA_KEY: k1 };
    let now = 0;
    const running = encryptedStore(
      below,
      new KeyRing(
        async (name) => secrets[name],
        () => now,
      ),
    );
    await running.append({ runId: 'before', expectedSeq: 0, dedupId: 'b', events: events('before') });
    Object.assign(secrets, { LF_DATA_KEY: k2, [`LF_DATA_KEY_${id1}`]: k1 });
    const restarted = encryptedStore(below, ringWith({ ...secrets }));
    await restarted.append({ runId: 'after', expectedSeq: 0, dedupId: 'a', events: events('after') });
    expect(await running.read('after')).toEqual(events('after'));
    await running.append({ runId: 'still', expectedSeq: 0, dedupId: 's', events: events('still') });
    expect(JSON.stringify(await below.read('still'))).toContain(`1:${id1}:`);
    expect(JSON.stringify(await below.read('after'))).toContain(`1:${id2}:`);

    // A key no provider has is asked for again once MISSING_KEY_RETRY_MS has passed, not at every read, nor never.
    const k3 = keyText();
    const lone = encryptedStore(below, ringWith({ LF_DATA_KEY: k3 }));
    await lone.append({ runId: 'third', expectedSeq: 0, dedupId: 't', events: events('third') });
    await expect(running.read('third')).rejects.toMatchObject({ code: 'LF_DATA_KEY_MISSING' });
    secrets[`LF_DATA_KEY_${parseDataKey(k3, 'k3').id}`] = k3;
    now += MISSING_KEY_RETRY_MS - 1;
    await expect(running.read('third')).rejects.toMatchObject({ code: 'LF_DATA_KEY_MISSING' });
    now += 1;
    expect(await running.read('third')).toEqual(events('third'));
  });

  it('a log written before the key reads unchanged, and one sealed with a rotated-out key reads with LF_DATA_KEY_<id>', async () => {
    const below = new MemoryEventStore();
    await below.append({ runId: 'old', expectedSeq: 0, dedupId: 'o', events: events('old') });
    const k1 = keyText();
    await encryptedStore(below, ringWith({ LF_DATA_KEY: k1 })).append({
      runId: 'r2',
      expectedSeq: 0,
      dedupId: 'd',
      events: events('r2'),
    });
    const { parseDataKey } = await import('../../src/encryption/index.js');
    const id1 = parseDataKey(k1, 'k1').id;
    const rotated = encryptedStore(below, ringWith({ LF_DATA_KEY: keyText(), [`LF_DATA_KEY_${id1}`]: k1 }));
    expect(await rotated.read('old')).toEqual(events('old'));
    expect(await rotated.read('r2')).toEqual(events('r2'));
    const lost = encryptedStore(below, ringWith({ LF_DATA_KEY: keyText() }));
    await expect(lost.read('r2')).rejects.toMatchObject({ code: 'LF_DATA_KEY_MISSING', meta: { keyId: id1 } });
    const blind = encryptedStore(below, ringWith({}));
    expect((await blind.read('r2'))[1]!.data).toMatchObject({ output: '[encrypted]' });
    // A reader without the key may not move a run it read so.
    await expect(
      blind.append({ runId: 'r2', expectedSeq: 3, dedupId: 'x', events: [ev('r2', 4)] }),
    ).rejects.toBeInstanceOf(DataKeyError);
  });

  it('a sealed value moved to another event does not open (bound to its run, event and field)', async () => {
    const below = new MemoryEventStore();
    const ring = ringWith({ LF_DATA_KEY: keyText() });
    await encryptedStore(below, ring).append({ runId: 'r3', expectedSeq: 0, dedupId: 'd', events: events('r3') });
    const stored = await below.read('r3');
    const moved = structuredClone(ev('r4', 1));
    (moved.data as { input: unknown }).input = (stored[0]!.data as { input: unknown }).input;
    await below.append({ runId: 'r4', expectedSeq: 0, dedupId: 'd', events: [moved] });
    await expect(encryptedStore(below, ring).read('r4')).rejects.toMatchObject({ code: 'LF_DECRYPT_FAILED' });
  });

  it('seals an empty input too, so a reader without the key may not write a clear comment into a run just started', async () => {
    // Left clear, `{}` would tell no more than its sealed length does, but the run would then hold nothing sealed until
    // its first output, and a process without the key would be let append to it (an approval's comment in clear).
    const below = new MemoryEventStore();
    const store = encryptedStore(below, ringWith({ LF_DATA_KEY: keyText() }));
    const first = ev('r5', 1);
    const started = { ...first, data: { ...(first.data as object), input: {} } } as unknown as EventEnvelope;
    await store.append({ runId: 'r5', expectedSeq: 0, dedupId: 'd', events: [started] });
    expect((await below.read('r5'))[0]!.data).toMatchObject({ input: { 'lf:enc': expect.any(String) } });
    expect(await store.read('r5')).toEqual([started]);
    const blind = encryptedStore(below, ringWith({}));
    expect((await blind.read('r5'))[0]!.data).toMatchObject({ input: { '[encrypted]': true } });
    await expect(
      blind.append({ runId: 'r5', expectedSeq: 1, dedupId: 'x', events: [ev('r5', 2)] }),
    ).rejects.toMatchObject({ code: 'LF_DATA_KEY_MISSING' });
    expect(await below.read('r5')).toHaveLength(1);
  });

  it('opens a log sealed by the format as written since issue 63 (a recorded log: the sealed format is a contract)', async () => {
    // Sealed on 2026-11-28 by the build before sealing was made one pass a commit (main at c706d3e5), under this key:
    // whatever changes in how values are sealed, these must still open to what was appended.
    const below = new MemoryEventStore();
    const recorded = GOLDEN_SEALED.map((l) => JSON.parse(l) as EventEnvelope);
    await below.append({ runId: 'golden', expectedSeq: 0, dedupId: 'g', events: recorded });
    const store = encryptedStore(below, ringWith({ LF_DATA_KEY: GOLDEN_KEY }));
    const [started, completed, failed] = await store.read('golden');
    expect((started!.data as { input: unknown }).input).toEqual({ who: 'Ottoline' });
    expect(completed!.data).toMatchObject({ output: { n: 1 }, progress: { message: 'half way', fraction: 0.5 } });
    expect(failed!.data).toMatchObject({
      error: { message: 'no Ottoline', retryable: false },
      progress: { message: 'stuck' },
    });
    // The wrong key is refused, not read as something else.
    await expect(encryptedStore(below, ringWith({ LF_DATA_KEY: keyText() })).read('golden')).rejects.toMatchObject({
      code: 'LF_DATA_KEY_MISSING',
    });
  });

  it("seals two fields under one object of an event in one pass; the caller's nested objects stay as they were", async () => {
    const below = new MemoryEventStore();
    const store = encryptedStore(below, ringWith({ LF_DATA_KEY: keyText() }));
    const progress = { message: `at ${SECRET}`, fraction: 0.5, at: '2026-01-01T00:00:00.000Z' };
    const error = { message: `no ${SECRET}`, retryable: false };
    const mine = [
      ev('p1', 1),
      {
        ...ev('p1', 2, { output: { note: SECRET } }),
        data: { task: 't', attempt: 1, output: { note: SECRET }, progress },
      },
      { ...ev('p1', 3), type: 'task.failed', data: { task: 't', attempt: 2, error, progress } },
    ] as EventEnvelope[];
    const copy = structuredClone(mine);
    await store.append({ runId: 'p1', expectedSeq: 0, dedupId: 'd', events: mine });
    expect(mine).toEqual(copy);
    expect(progress.message).toBe(`at ${SECRET}`);
    expect(JSON.stringify(await below.read('p1'))).not.toContain(SECRET);
    expect(await store.read('p1')).toEqual(copy);
  });

  it('a follower gets each batch opened, in order', async () => {
    const below = new MemoryEventStore();
    const store = encryptedStore(below, ringWith({ LF_DATA_KEY: keyText() }));
    const got: EventEnvelope[] = [];
    const sub = store.follow('r5', 0, (b) => got.push(...b));
    await store.append({ runId: 'r5', expectedSeq: 0, dedupId: 'a', events: events('r5').slice(0, 2) });
    await store.append({ runId: 'r5', expectedSeq: 2, dedupId: 'b', events: events('r5').slice(2) });
    await waitFor('three events', () => got.length === 3);
    sub.close();
    expect(got).toEqual(events('r5'));
  });
});

describe('the SnapshotStore decorator', () => {
  const snapshot = (runId: string): StoredSnapshot => ({
    runId,
    seq: 4,
    position: null,
    definitionHash: 'h',
    definition: { id: 'wf' },
    fold: { value: 'running', status: 'active', context: { input: { who: SECRET } }, entered: [] },
    takenAt: '2026-11-28T00:00:00.000Z',
  });
  it('seals the context; without the key there is no snapshot (the run folds from its log)', async () => {
    const below = new MemorySnapshotStore();
    const ring = ringWith({ LF_DATA_KEY: keyText() });
    await encryptedSnapshots(below, ring).put(snapshot('s1'));
    expect(JSON.stringify(await below.get('s1'))).not.toContain(SECRET);
    expect(await encryptedSnapshots(below, ring).get('s1')).toEqual(snapshot('s1'));
    expect(await encryptedSnapshots(below, ringWith({})).get('s1')).toBeNull();
  });
});

/** A BlobStore in memory that keeps bytes under the address it is given (port.ts put). */
function memoryBlobs(): BlobStore & { bytes: Map<string, Buffer> } {
  const bytes = new Map<string, Buffer>();
  return {
    bytes,
    async put(body, mediaType, address?: () => { digest: string; size: number }) {
      const parts: Buffer[] = [];
      if (body instanceof Uint8Array) parts.push(Buffer.from(body));
      else for await (const b of typeof body === 'function' ? body() : body) parts.push(Buffer.from(b));
      const all = Buffer.concat(parts);
      const at = address?.() ?? {
        digest: `sha256:${createHash('sha256').update(all).digest('hex')}`,
        size: all.length,
      };
      bytes.set(at.digest, all);
      return { [PAYLOAD_REF_KEY]: { digest: at.digest, size: at.size, media_type: mediaType } } as PayloadRef;
    },
    async open(digest) {
      const b = bytes.get(digest);
      if (!b) return null;
      return (async function* () {
        for (let i = 0; i < b.length; i += 1000) yield b.subarray(i, i + 1000);
      })();
    },
    has: async (d) => bytes.has(d),
    delete: async (d) => void bytes.delete(d),
    async *list() {
      for (const [digest, b] of bytes) yield { digest, size: b.length, storedAt: Date.now() };
    },
  };
}

const readAll = async (it: AsyncIterable<Uint8Array> | null) => {
  const parts: Buffer[] = [];
  for await (const b of it!) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
};

describe('the BlobStore decorator', () => {
  it('keeps sealed chunks under the clear digest, streams them back, refuses a changed or cut body', async () => {
    const below = memoryBlobs();
    const blobs = encryptedBlobs(below, ringWith({ LF_DATA_KEY: keyText() }));
    for (const size of [0, 10, 64 * 1024, 64 * 1024 * 3 + 17]) {
      const clear = Buffer.from(JSON.stringify({ s: SECRET, pad: 'x'.repeat(size) }));
      async function* pieces() {
        for (let i = 0; i < clear.length; i += 7000) yield clear.subarray(i, i + 7000);
      }
      const ref = await blobs.put(pieces(), 'application/json');
      const digest = `sha256:${createHash('sha256').update(clear).digest('hex')}`;
      expect(ref).toEqual({ [PAYLOAD_REF_KEY]: { digest, size: clear.length, media_type: 'application/json' } });
      expect(below.bytes.get(digest)!.toString('latin1')).not.toContain(SECRET);
      expect((await readAll(await blobs.open(digest))).equals(clear)).toBe(true);
    }
    const [digest, body] = [...below.bytes].at(-1)!;
    const changed = Buffer.from(body);
    changed[body.length - 40]! ^= 1;
    below.bytes.set(digest, changed);
    await expect(readAll(await blobs.open(digest))).rejects.toMatchObject({ code: 'LF_DECRYPT_FAILED' });
    below.bytes.set(digest, body.subarray(0, body.length - 100));
    await expect(readAll(await blobs.open(digest))).rejects.toMatchObject({ code: 'LF_DECRYPT_FAILED' });
    // Under another digest: the last chunk binds the one it was sealed under.
    below.bytes.set('sha256:' + '0'.repeat(64), body);
    await expect(readAll(await blobs.open('sha256:' + '0'.repeat(64)))).rejects.toMatchObject({
      code: 'LF_DECRYPT_FAILED',
    });
  });

  it('a blob stored before the key reads as it was', async () => {
    const below = memoryBlobs();
    const ref = await below.put(Buffer.from('{"a":1}'), 'application/json');
    const blobs = encryptedBlobs(below, ringWith({ LF_DATA_KEY: keyText() }));
    expect((await readAll(await blobs.open(ref[PAYLOAD_REF_KEY].digest))).toString()).toBe('{"a":1}');
  });
});

describe('values between engines and workers (src/encryption/wire.ts)', () => {
  it("an attempt's input, run input and COMMAND line travel sealed and open as they were; a report too; bound to the attempt", async () => {
    const { openAttempt, openOutcome, sealAttempt, sealOutcome, parseDataKey } = await import(
      '../../src/encryption/index.js'
    );
    const text = keyText();
    const key = parseDataKey(text, 'k');
    const ring = ringWith({ LF_DATA_KEY: text });
    const msg = {
      runId: 'r9',
      taskId: 'convert',
      attempt: 2,
      input: { file: SECRET },
      workflowInput: { who: SECRET },
      command: { argv: ['convert', SECRET], env: { WHO: SECRET } },
    };
    const sealed = sealAttempt(msg, key);
    expect(JSON.stringify(sealed)).not.toContain(SECRET);
    expect(await openAttempt(sealed, ring)).toEqual(msg);
    await expect(openAttempt({ ...sealed, attempt: 3 }, ring)).rejects.toMatchObject({ code: 'LF_DECRYPT_FAILED' });
    await expect(openAttempt(sealed, ringWith({}))).rejects.toMatchObject({ code: 'LF_DATA_KEY_MISSING' });
    const report = {
      runId: 'r9',
      type: 'task.failed',
      data: { task: 'convert', attempt: 2, error: { message: `no ${SECRET}` } },
    };
    const sealedReport = sealOutcome(report, key);
    expect(JSON.stringify(sealedReport)).not.toContain(SECRET);
    expect(await openOutcome(sealedReport, ring)).toEqual(report);
  });
});
