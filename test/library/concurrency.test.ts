/** Concurrency limits and priority through the library (docs/limits.md#concurrency-limits-and-priority). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, MemoryEventStore, parseDefinition, type Definition } from '../../src/index.js';
import { fileStore } from '../helpers/engine.js';

function def(concurrency: string, extra = ''): Definition {
  const r = parseDefinition(`workflow:
  id: invoice
  input:
    required: [customer]
  concurrency: ${concurrency}
${extra}  tasks:
    - { id: review, type: HUMAN, approvers: [ops] }
`);
  expect(r.diagnostics).toEqual([]);
  return r.definition!;
}

const handlers = {};

describe('concurrency limits through the library', () => {
  it('limit 2: the third run is QUEUED, and approving one admits it', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const d = def('{ limit: 2 }');
    const a = await engine.run(d, { customer: 'acme' }, { handlers });
    const b = await engine.run(d, { customer: 'acme' }, { handlers });
    const c = await engine.run(d, { customer: 'acme' }, { handlers });
    expect([a.status, b.status, c.status]).toEqual(['WAITING', 'WAITING', 'QUEUED']);
    expect((await engine.events(c.runId)).map((e) => e.type)).toEqual(['run.started', 'run.queued']);
    await engine.decide(a.runId, 'review', 'approved', 'ops');
    const done = await engine.drive(a.runId, { handlers });
    expect(done.status).toBe('COMPLETED');
    expect((await engine.status(c.runId)).status).toBe('WAITING');
    expect((await engine.events(c.runId)).map((e) => e.type)).toEqual(['run.started', 'run.queued', 'run.admitted']);
  });

  it('a drive whose run frees a slot drives the run it admits next, and tells onAdmittedDriven where that run ended', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const d = def('{ limit: 1 }');
    const a = await engine.run(d, { customer: 'acme' }, { handlers });
    const b = await engine.run(d, { customer: 'acme' }, { handlers });
    expect(b.status).toBe('QUEUED');
    await engine.decide(a.runId, 'review', 'approved', 'ops');
    const told: string[] = [];
    const done = await engine.drive(a.runId, {
      handlers,
      onAdmittedDriven: (v) => told.push(`${v.runId} ${v.status}`),
    });
    expect(done.status).toBe('COMPLETED');
    // b was admitted by a's settle and driven in the same drive, to its approval.
    expect(told).toEqual([`${b.runId} WAITING`]);
  });

  it('per key: the limit holds for each customer on its own', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const d = def('{ limit: 1, key: "${workflow.input.customer}" }');
    const statuses = [];
    for (const customer of ['acme', 'acme', 'globex'])
      statuses.push((await engine.run(d, { customer }, { handlers })).status);
    expect(statuses).toEqual(['WAITING', 'QUEUED', 'WAITING']);
  });

  it('refuse: the start fails with LF_CONCURRENCY_LIMIT and nothing is written', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const d = def('{ limit: 1, on_limit: refuse }');
    await engine.run(d, { customer: 'acme' }, { handlers });
    await expect(engine.run(d, { customer: 'acme' }, { handlers })).rejects.toMatchObject({
      code: 'LF_CONCURRENCY_LIMIT',
    });
    expect(await engine.list()).toHaveLength(1);
  });

  it('queued runs are admitted by priority, then arrival; cancelling one frees nothing and is not admitted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-conc-'));
    const engine = new Engine({ store: fileStore(dir) });
    const d = def('{ limit: 1 }');
    const holder = await engine.run(d, { customer: 'a' }, { handlers });
    const low = await engine.run(d, { customer: 'b' }, { handlers, priority: 10 });
    const first = await engine.run(d, { customer: 'c' }, { handlers });
    const high = await engine.run(d, { customer: 'd' }, { handlers, priority: 90 });
    const cancelled = await engine.run(d, { customer: 'e' }, { handlers, priority: 99 });
    expect((await engine.cancel(cancelled.runId, { by: 'me' })).view.status).toBe('CANCELLED');
    const order: string[] = [];
    let current = holder.runId;
    for (let i = 0; i < 3; i++) {
      await engine.decide(current, 'review', 'approved', 'ops');
      await engine.drive(current, { handlers });
      const next = (await engine.list({ workflowId: 'invoice' })).find((r) => r.status === 'WAITING');
      order.push(next!.runId);
      current = next!.runId;
    }
    expect(order).toEqual([high.runId, first.runId, low.runId]);
    expect((await engine.events(cancelled.runId)).map((e) => e.type)).toEqual([
      'run.started',
      'run.queued',
      'run.cancelled',
    ]);
  });

  for (const kind of ['file', 'memory'] as const) {
    const store = () =>
      kind === 'file' ? fileStore(mkdtempSync(join(tmpdir(), 'lf-conc-burst-'))) : new MemoryEventStore();

    it(`${kind} store: a burst of starts at once keeps the limit, and the queued ones go by priority as slots free`, async () => {
      const engine = new Engine({ store: store() });
      const d = def('{ limit: 3 }');
      // 24 starts in one go (as a trigger's burst or a client's loop would make them), a third of them urgent.
      const starts = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          engine.run(d, { customer: `c${i}` }, { handlers, ...(i % 3 === 2 ? { priority: 90 } : {}) }),
        ),
      );
      const waiting = starts.filter((r) => r.status === 'WAITING');
      expect(waiting).toHaveLength(3);
      expect(starts.filter((r) => r.status === 'QUEUED')).toHaveLength(21);
      // Approve whatever holds a slot until every run is done; record the order the queued ones were admitted in.
      const admitted: string[] = [];
      for (;;) {
        const going = (await engine.list({ workflowId: 'invoice' })).filter((r) => r.status === 'WAITING');
        expect(going.length).toBeLessThanOrEqual(3);
        if (going.length === 0) break;
        const next = going.sort((a, b) => (a.runId < b.runId ? -1 : 1))[0]!;
        await engine.decide(next.runId, 'review', 'approved', 'ops');
        await engine.drive(next.runId, { handlers });
        for (const r of await engine.list({ workflowId: 'invoice' })) {
          if (r.status === 'WAITING' && !admitted.includes(r.runId) && !waiting.some((w) => w.runId === r.runId))
            admitted.push(r.runId);
        }
      }
      expect((await engine.list({ workflowId: 'invoice' })).map((r) => r.status)).toEqual(Array(24).fill('COMPLETED'));
      // Every urgent queued run was admitted before any queued run of the default priority.
      const urgent = new Set(starts.filter((r, i) => i % 3 === 2 && r.status === 'QUEUED').map((r) => r.runId));
      const lastUrgent = Math.max(...admitted.map((id, i) => (urgent.has(id) ? i : -1)));
      const firstPlain = admitted.findIndex((id) => !urgent.has(id));
      expect(admitted).toHaveLength(21);
      expect(lastUrgent).toBeLessThan(firstPlain);
    });

    it(`${kind} store: a burst under on_limit: refuse starts exactly the limit, refuses the rest and writes nothing for them`, async () => {
      const engine = new Engine({ store: store() });
      const d = def('{ limit: 4, on_limit: refuse }');
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => engine.run(d, { customer: `c${i}` }, { handlers })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused).toHaveLength(26);
      for (const r of refused) expect(r.reason).toMatchObject({ code: 'LF_CONCURRENCY_LIMIT' });
      expect(await engine.list()).toHaveLength(4);
    });
  }
});
