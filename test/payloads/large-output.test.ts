/**
 * A 100 MB output runs end to end on the file store: the handler returns it, a later task reads one field of it through
 * a template, a DECISION branches on a field of it, another task is handed the whole value; the run's log stays small
 * (the event keeps a reference) and the body is one blob.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { isPayloadRef } from '../../src/events/index.js';
import { def } from '../helpers/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-payloads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WORKFLOW = `
workflow:
  id: big_report
  name: Big report
  version: 1
  tasks:
    - id: produce
      type: SIMPLE
      handler: produce
    - id: route
      type: DECISION
      depends_on: [produce]
      decision_param: "\${produce.output.status}"
      decision_cases:
        ok: { next: summarize }
        default: { next: complain }
    - id: summarize
      type: SIMPLE
      handler: summarize
      input:
        status: "\${produce.output.status}"
        rows: "\${produce.output.rows}"
        label: "status \${produce.output.status}"
    - id: complain
      type: SIMPLE
      handler: complain
    - id: measure
      type: SIMPLE
      handler: measure
      depends_on: [summarize]
      input:
        report: "\${produce.output}"
`;

describe('a 100 MB output on the file store', () => {
  it('is kept apart: templates, a DECISION and a later handler read it; the log stays small', async () => {
    const store = new FileEventStore(dir);
    const engine = new Engine({ store });
    const seen: Record<string, unknown> = {};
    const view = await engine.run(
      def(WORKFLOW),
      {},
      {
        handlers: {
          produce: async () => ({ status: 'ok', rows: 3, body: 'x'.repeat(100 * 1024 * 1024) }),
          summarize: async (input) => {
            seen.summarize = input;
            return { done: true };
          },
          complain: async () => ({}),
          measure: async (input) => {
            const report = input.report as { body: string; status: string };
            seen.measure = { length: report.body.length, status: report.status };
            return { length: report.body.length };
          },
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    expect(seen.summarize).toEqual({ status: 'ok', rows: 3, label: 'status ok' });
    expect(seen.measure).toEqual({ length: 100 * 1024 * 1024, status: 'ok' });
    expect(view.tasks.complain?.status).not.toBe('COMPLETED');
    // The run's log: a few KiB, the output a reference.
    const runs = join(dir, 'runs');
    const log = readdirSync(runs).find((f) => f.startsWith(view.runId) && f.endsWith('.jsonl'))!;
    expect(statSync(join(runs, log)).size).toBeLessThan(64 * 1024);
    const events = await store.read(view.runId);
    const completed = events.find((e) => e.type === 'task.completed' && e.data.task === 'produce')!;
    expect(isPayloadRef((completed.data as { output?: unknown }).output)).toBe(true);
    const blobs = [];
    for await (const b of store.blobs().list()) blobs.push(b);
    expect(blobs).toHaveLength(1);
    expect(blobs[0]!.size).toBeGreaterThan(100 * 1024 * 1024);
    await store.close();
  }, 120_000);
});
