/**
 * A store whose blobs cannot be read synchronously (as NATS's): a payload a DECISION or a template reads that this
 * process has not loaded (it restarted, or the value was forgotten) is loaded by the in-process driver and the step
 * taken again; replay loads it too. Without a blob store the core says which payload it could not read.
 */
import { describe, expect, it } from 'vitest';
import { BlobNotLoadedError } from '../../src/errors/index.js';
import { forgetLoadedPayloads } from '../../src/executor/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore, type BlobStore } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';

const flow = def(`
workflow:
  id: decide_later
  payloads: { inline_limit: 1KiB }
  tasks:
    - { id: produce, type: SIMPLE, handler: produce }
    - { id: hold, type: WAIT, depends_on: [produce], event: go }
    - id: route
      type: DECISION
      depends_on: [hold]
      decision_param: "\${produce.output.kind}"
      decision_cases:
        big: { next: use }
        default: { next: other }
    - { id: use, type: SIMPLE, handler: use, input: { kind: "\${produce.output.kind}" } }
    - { id: other, type: SIMPLE, handler: use }
`);

/** The memory store's blobs without synchronous reads. */
function asyncOnly(store: MemoryEventStore): MemoryEventStore {
  const inner = store.blobs();
  const blobs: BlobStore = {
    put: (b, t) => inner.put(b, t),
    open: (d) => inner.open(d),
    has: (d) => inner.has(d),
    delete: (d) => inner.delete(d),
    list: () => inner.list(),
  };
  return Object.assign(store, { blobs: () => blobs });
}

describe('payloads read asynchronously', () => {
  it('the driver loads a payload a DECISION reads after it was forgotten, and takes the step again', async () => {
    const store = asyncOnly(new MemoryEventStore());
    const engine = new Engine({ store });
    const used: unknown[] = [];
    const handlers = {
      produce: async () => ({ kind: 'big', body: 'b'.repeat(10_000) }),
      use: async (input: Record<string, unknown>) => {
        used.push(input);
        return {};
      },
    };
    const runId = await engine.start(flow, {}, { handlers });
    expect((await engine.drive(runId, { handlers })).status).toBe('WAITING');
    forgetLoadedPayloads();
    await engine.signal(runId, 'go');
    forgetLoadedPayloads();
    const view = await engine.drive(runId, { handlers });
    expect(view.status, JSON.stringify(view.error ?? view.tasks)).toBe('COMPLETED');
    expect(used).toEqual([{ kind: 'big' }]);
    expect(view.tasks.other?.status).not.toBe('COMPLETED');
    forgetLoadedPayloads();
    const replayed = await engine.replay(runId);
    expect(replayed.divergence).toBeNull();
    expect(replayed.payloads).toEqual({ checked: 1, problems: [] });
  });

  it('BlobNotLoadedError names the digest', () => {
    const err = new BlobNotLoadedError(`sha256:${'a'.repeat(64)}`);
    expect(err.code).toBe('LF_BLOB_NOT_LOADED');
    expect(err.digest).toBe(`sha256:${'a'.repeat(64)}`);
  });
});
