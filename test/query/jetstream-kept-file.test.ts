/**
 * The NATS kept order's file (src/query/jetstream-kept-file.ts) read in two steps: where it stands and its figures
 * first, its rows only when asked, from the file as it is then. Rows of an order kept anew in between are not taken
 * for the order read first (null: the whole look answers), and a file whose figures do not check is no order.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FiguresTally, keptFiguresOf } from '../../src/query/cache-figures.js';
import { keptPoint, readKept, writeKept, type Row } from '../../src/query/jetstream-kept-file.js';
import { tempDir } from '../helpers/cli.js';

const rows = (n: number, from = 0): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    runId: `r${String(from + i).padStart(5, '0')}`,
    startedAt: new Date(Date.UTC(2026, 0, 1) + (from + i) * 1000).toISOString(),
    workflowId: 'wf',
    settled: true,
  }));

function figures() {
  const t = new FiguresTally();
  t.addRecord({
    runId: 'r00000',
    workflowId: 'wf',
    version: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    status: 'COMPLETED',
    durationMs: 1200,
    tasks: {},
  } as never);
  return keptFiguresOf(t.line())!;
}

describe('the kept order file', () => {
  it('reads where it stands and its figures first, its rows when asked', () => {
    const file = join(tempDir('lf-kept-file-'), 'nats-runs-0000000000000000.order');
    writeKept(file, { created: 'c1', seq: 10, rows: rows(3), corrupt: [], figures: figures() });
    expect(keptPoint(file)).toEqual({ created: 'c1', seq: 10 });
    const kept = readKept(file)!;
    expect(kept).toMatchObject({ created: 'c1', seq: 10, count: 3, flight: [] });
    expect(kept.figures.wf!['1']!.tally.durations.count).toBe(1);
    expect([...kept.rows()!.newest()].map((r) => r?.runId)).toEqual(['r00002', 'r00001', 'r00000']);
  });

  it('rows of an order kept anew since the read are not the order read: null', () => {
    const file = join(tempDir('lf-kept-file-'), 'nats-runs-0000000000000000.order');
    writeKept(file, { created: 'c1', seq: 10, rows: rows(3), corrupt: [], figures: figures() });
    const kept = readKept(file)!;
    writeKept(file, { created: 'c1', seq: 11, rows: rows(4), corrupt: [], figures: figures() });
    expect(kept.rows()).toBeNull();
    // Read afresh, the new one is whole.
    expect(readKept(file)!.rows()!.count).toBe(4);
  });

  it('a file whose figures line does not check is no order', () => {
    const file = join(tempDir('lf-kept-file-'), 'nats-runs-0000000000000000.order');
    writeKept(file, { created: 'c1', seq: 10, rows: rows(3), corrupt: [], figures: figures() });
    const lines = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, [lines[0], '{"figures":{"wf":{"1":{"tally":{}}}}}', ...lines.slice(2)].join('\n'));
    expect(readKept(file)).toBeNull();
  });
});
