/**
 * The folds an engine makes of a run it did not drive itself (the task gates' "does its holder still need the slot",
 * admission's "is it still queued") meet a DECISION that read a field of a large payload, whose body that process has
 * not loaded: they load it and fold again (foldLoaded), where they threw LF_BLOB_NOT_LOADED. A process that never
 * loaded the body is made here by forgetting what this one loaded and putting back the core's resolver that loads
 * nothing, as a fresh process has it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { forgetLoadedPayloads } from '../../src/executor/index.js';
import { installPayloadResolver } from '../../src/expressions/index.js';
import { admitOne } from '../../src/limits/admission.js';
import { stillHolds } from '../../src/limits/task-gate.js';
import { systemClock } from '../../src/executor/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { markedBlock } from '../docs/markdown.js';
import { ROOT } from '../helpers/cli.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const yaml = markedBlock(page, 'large-payloads-example').join('\n');

describe("an engine's folds of a run whose DECISION read a large payload it has not loaded", () => {
  it('the task gate and admission load the body and answer, where they threw', async () => {
    const { definition } = parseDefinition(yaml.replace('  handlers: ./export.mjs\n', ''), 'export.yaml');
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    const rows = Array.from({ length: 50_000 }, (_, i) => ({ id: i, note: 'x'.repeat(90) }));
    const view = await engine.run(
      definition!,
      {},
      {
        handlers: {
          exportRows: async () => ({ summary: { status: 'complete', rows: rows.length }, rows }),
          publish: async (input) => ({ published: input.rows }),
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    // As a process that never read the body: nothing loaded, and the core's resolver that loads nothing.
    forgetLoadedPayloads();
    installPayloadResolver(null);
    const holder = { runId: view.runId, task: 'publish', attempt: 1, at: Date.now() };
    expect(await stillHolds(store, holder, Date.now())).toBe(false);
    forgetLoadedPayloads();
    installPayloadResolver(null);
    expect(await admitOne(store, systemClock, view.runId)).toBe('gone');
  }, 30_000);
});
