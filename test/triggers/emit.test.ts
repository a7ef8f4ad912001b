import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryEventStore } from '../../src/store/index.js';
import { replayRun, type Handlers } from '../../src/runtime/index.js';
import { systemClock } from '../../src/executor/index.js';
import { Engine } from '../../src/local/index.js';
import {
  emitEvent,
  fileDeadLetters,
  parseEventTypeFile,
  runIdForEvent,
  type EmitOptions,
} from '../../src/triggers/index.js';
import { event, loaded, triggered } from './helpers.js';

const schema = parseEventTypeFile(
  'type: payment_received\nschema: { type: object, required: [amount], properties: { amount: { type: number, minimum: 0 } } }\n',
  'payment_received.yaml',
  'payment_received',
);

function setup(
  defs = [
    loaded(triggered('book_payment', 'payment_received')),
    loaded(triggered('big_payment', 'payment_received', { filter: 'event.data.amount >= 1000' })),
  ],
) {
  const store = new MemoryEventStore();
  const deadDir = join(mkdtempSync(join(tmpdir(), 'lf-dead-')), 'dead-letter');
  const calls: string[] = [];
  const handlers: Handlers = {
    work: async (input, ctx) => {
      calls.push(`${ctx.workflowId}:${String(input.amount)}`);
      return { booked: Number(input.amount) * 2 };
    },
  };
  const opts: EmitOptions = {
    store,
    catalog: { loaded: defs, eventTypes: new Map([['payment_received', schema]]) },
    deadLetters: fileDeadLetters(deadDir),
    loadHandlers: async () => handlers,
    clock: { ...systemClock, now: () => Date.parse('2026-11-01T10:00:00Z') },
  };
  return { store, opts, calls, deadDir };
}

async function expectReplays(store: MemoryEventStore): Promise<void> {
  for (const run of await store.listRuns()) expect(replayRun(await store.read(run.runId)).divergence).toBeNull();
}

describe('emitEvent on the embedded store', () => {
  it('starts and drives a run per matching workflow, under the run id of (event, workflow)', async () => {
    const { store, opts, calls } = setup();
    const r = await emitEvent(event('payment_received', { amount: 1500 }), opts);
    expect(r.accepted).toBe(true);
    if (!r.accepted) return;
    expect(
      r.runs.map(({ runId, workflowId, status, duplicate }) => ({ runId, workflowId, status, duplicate })),
    ).toEqual([
      {
        runId: runIdForEvent('e-1', 'book_payment'),
        workflowId: 'book_payment',
        status: 'COMPLETED',
        duplicate: false,
      },
      { runId: runIdForEvent('e-1', 'big_payment'), workflowId: 'big_payment', status: 'COMPLETED', duplicate: false },
    ]);
    expect(r.runs[0]!.view.tasks.work!.output).toEqual({ booked: 3000 });
    expect(calls.sort()).toEqual(['big_payment:1500', 'book_payment:1500']);
    const started = (await store.read(r.runs[0]!.runId))[0]!;
    expect(started.type === 'run.started' && started.data.input).toEqual({ amount: 1500, note: 'none' });
    await expectReplays(store);
  });

  it("a run under the event's run id that the event did not start (another workflow's, another event's) is not adopted: LF_RUN_ID_TAKEN, that run untouched", async () => {
    const other = loaded(triggered('other_flow', 'payment_received'));
    for (const plant of [
      { def: other.definition, source: { event: 'e-1' } },
      { def: loaded(triggered('book_payment', 'payment_received')).definition, source: { event: 'e-9' } },
    ]) {
      const { store, opts, calls } = setup([loaded(triggered('book_payment', 'payment_received'))]);
      const runId = runIdForEvent('e-1', 'book_payment');
      await new Engine({ store }).start(plant.def, { amount: 1 }, { runId, source: plant.source });
      const before = await store.read(runId);
      await expect(emitEvent(event('payment_received', { amount: 20 }), opts)).rejects.toMatchObject({
        code: 'LF_RUN_ID_TAKEN',
        message: expect.stringMatching(
          new RegExp(
            `^run id ${runId}, the id of event e-1's run of book_payment, is taken by a run of workflow ${plant.def.id} started by event ${plant.source.event}`,
          ),
        ),
      });
      expect(await store.read(runId)).toEqual(before);
      expect(calls).toEqual([]);
    }
  });

  it('the same event id delivered twice starts each workflow exactly once; the second delivery reports duplicates', async () => {
    const { store, opts, calls } = setup();
    const first = await emitEvent(event('payment_received', { amount: 20 }), opts);
    const logged = await store.read(runIdForEvent('e-1', 'book_payment'));
    const second = await emitEvent(event('payment_received', { amount: 20 }), opts);
    expect(first.accepted && first.runs.map((x) => x.duplicate)).toEqual([false]);
    expect(second.accepted && second.runs.map((x) => [x.runId, x.duplicate, x.status])).toEqual([
      [runIdForEvent('e-1', 'book_payment'), true, 'COMPLETED'],
    ]);
    expect(calls).toEqual(['book_payment:20']);
    expect(await store.listRuns()).toHaveLength(1);
    expect(await store.read(runIdForEvent('e-1', 'book_payment'))).toEqual(logged);
  });

  it('two deliveries racing each other still start one run, driven once', async () => {
    const { store, opts, calls } = setup();
    const results = await Promise.all([1, 2, 3].map(() => emitEvent(event('payment_received', { amount: 7 }), opts)));
    const runs = results.flatMap((r) => (r.accepted ? r.runs : []));
    expect(runs.filter((x) => !x.duplicate)).toHaveLength(1);
    expect(runs.filter((x) => x.duplicate)).toHaveLength(2);
    expect(calls).toEqual(['book_payment:7']);
    expect(await store.listRuns()).toHaveLength(1);
    await expectReplays(store);
  });

  it('a different event id with the same data is a new event', async () => {
    const { store, opts } = setup();
    await emitEvent(event('payment_received', { amount: 1 }), opts);
    await emitEvent(event('payment_received', { amount: 1 }, { id: 'e-2' }), opts);
    expect((await store.listRuns()).map((r) => r.runId).sort()).toEqual(
      [runIdForEvent('e-1', 'book_payment'), runIdForEvent('e-2', 'book_payment')].sort(),
    );
  });

  it('keeps a rejected event in the dead-letter file with the reason, and starts nothing', async () => {
    const { store, opts, deadDir } = setup();
    const raw = event('payment_received', { amount: -5 }, { source: 'billing' });
    const r = await emitEvent(raw, opts);
    expect(r).toMatchObject({ accepted: false, stage: 'schema', deadLetter: join(deadDir, '2026-11-01.jsonl') });
    await emitEvent({ type: 'payment_received', data: 'oops' }, opts);
    expect(readdirSync(deadDir)).toEqual(['2026-11-01.jsonl']);
    const lines = readFileSync(join(deadDir, '2026-11-01.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        deadLetteredAt: '2026-11-01T10:00:00.000Z',
        stage: 'schema',
        reason:
          'event e-1 does not fit the schema of payment_received: data.amount: Too small: expected number to be >=0',
        problems: ['data.amount: Too small: expected number to be >=0'],
        event: raw,
      },
      expect.objectContaining({
        stage: 'envelope',
        event: { type: 'payment_received', data: 'oops' },
        problems: [
          'id: missing (required)',
          'time: missing (required)',
          'data: expected an object (the event payload)',
        ],
      }),
    ]);
    expect(await store.listRuns()).toEqual([]);
  });

  it('refuses before writing anything when a matching workflow lacks a handler', async () => {
    const { store, opts } = setup();
    const r = emitEvent(event('payment_received', { amount: 1 }), { ...opts, loadHandlers: async () => ({}) });
    await expect(r).rejects.toMatchObject({ code: 'LF_HANDLER_NOT_FOUND' });
    expect(await store.listRuns()).toEqual([]);
  });

  it('accepts an event no filter lets through and starts nothing', async () => {
    const { store, opts } = setup([
      loaded(triggered('big_payment', 'payment_received', { filter: 'event.data.amount >= 1000' })),
    ]);
    expect(await emitEvent(event('payment_received', { amount: 3 }), opts)).toMatchObject({
      accepted: true,
      runs: [],
      warnings: [],
    });
    expect(await store.listRuns()).toEqual([]);
  });
});
