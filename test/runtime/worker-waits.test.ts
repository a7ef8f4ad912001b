/**
 * What a waiting attempt says when no worker serves its handler (docs/nats.md#stations, `status` over NATS), for a
 * MAP of thousands of items scheduled at once: each item waiting says it, once, and the ones already done say
 * nothing. One pass over the items per waiting item made such a view quadratic (3,000 items: 9,000,000 steps).
 */
import { describe, expect, it } from 'vitest';
import { markUnserved, workerWaits, type RunView } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';

const d = def(`
workflow:
  id: scan-all
  version: 1
  tasks:
    - { id: list, type: SIMPLE }
    - id: scan
      type: MAP
      depends_on: [list]
      items: "\${list.output.folders}"
      handler: scan_folder
      input: { path: "\${item}" }
`);

const ITEMS = 3_000;
const item = (i: number) => ({
  instance: `scan[${i}]`,
  status: i % 3 === 0 ? 'COMPLETED' : i % 3 === 1 ? 'SCHEDULED' : 'IN_PROGRESS',
  attempts: i % 3 === 1 ? 0 : 1,
  startedAt: null,
  completedAt: null,
  output: null,
  error: null,
});
const view = {
  runId: 'r1',
  workflowId: 'scan-all',
  version: 1,
  status: 'RUNNING',
  startedAt: '2026-01-01T00:00:00.000Z',
  completedAt: null,
  input: {},
  tasks: {
    list: { status: 'COMPLETED', attempts: 1, startedAt: null, completedAt: null, output: null, error: null },
    scan: {
      status: 'IN_PROGRESS',
      attempts: 1,
      startedAt: null,
      completedAt: null,
      output: null,
      error: null,
      items: Array.from({ length: ITEMS }, (_, i) => item(i)),
    },
  },
  output: null,
  error: null,
  timers: [],
  seq: 3,
} as unknown as RunView;

describe('items waiting for a handler nobody serves', () => {
  it('each item scheduled or at work says so, the done ones nothing, the list in its order', () => {
    const waits = workerWaits(d, view);
    expect(waits).toHaveLength((ITEMS / 3) * 2);
    const said = markUnserved(view, waits, (queue, handler) => queue === 'default' && handler === 'scan_folder');
    const items = said.tasks.scan!.items!;
    expect(items.map((it) => it.instance)).toEqual(view.tasks.scan!.items!.map((it) => it.instance));
    for (const [i, it] of items.entries())
      expect(it.waitingFor, it.instance).toBe(
        i % 3 === 0 ? undefined : 'handler scan_folder on queue default: no worker has announced it',
      );
    // The view it was given is left as it was.
    expect(view.tasks.scan!.items!.every((it) => it.waitingFor === undefined)).toBe(true);
  });
});
