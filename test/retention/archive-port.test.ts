/**
 * The archive through the store port (EventStore.archive), as the library and the other features use it: a run's
 * attachments (what moves with it besides its log: its large payloads' blobs) recorded with it and given back by
 * find and restore; a run not settled never moved.
 */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { Engine } from '../../src/local/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { INVOICE_YAML } from './docs-scenario.js';

describe('the archive on the store port (file store)', () => {
  it("records each run's attachments as the hook names them, and gives them back on find and restore", async () => {
    const store = new FileEventStore(tempDir('lf-archive-port-'));
    const { definition } = parseDefinition(INVOICE_YAML, 'invoice.yaml');
    const { runId } = await new Engine({ store }).run(definition!, { amount: 1 }, { handlers: {} });
    const asked: [string, number][] = [];
    const moved = await store.archive().archive(await store.listRuns(), new Date(), {
      attachments: async (id, events) => {
        asked.push([id, events.length]);
        return [{ digest: `sha256:${'a'.repeat(64)}`, size: 42 }];
      },
    });
    const events = await store.read(runId);
    expect(asked).toEqual([[runId, events.length]]);
    expect(moved).toEqual([
      expect.objectContaining({ runId, attachments: [{ digest: `sha256:${'a'.repeat(64)}`, size: 42 }] }),
    ]);
    expect((await store.archive().find(runId))?.attachments).toEqual(moved[0]!.attachments);
    expect((await store.archive().restore(runId)).attachments).toEqual(moved[0]!.attachments);
    expect(await store.listRuns()).toEqual([expect.objectContaining({ runId })]);
    await store.close();
  });

  it('leaves a run that is not settled, whatever it is given', async () => {
    const store = new FileEventStore(tempDir('lf-archive-port-'));
    const { definition } = parseDefinition(INVOICE_YAML, 'invoice.yaml');
    const { runId } = await new Engine({ store }).run(definition!, { amount: 1 }, { handlers: {} });
    const [summary] = await store.listRuns();
    const moved = await store.archive().archive([{ ...summary!, status: 'RUNNING', completedAt: null }], new Date());
    expect(moved).toEqual([]);
    expect(await store.archive().find(runId)).toBeNull();
    await store.close();
  });
});
