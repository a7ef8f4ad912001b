/**
 * `ledgerflow serve` and `ledgerflow ui` on a store of thousands of settled runs (docs/serve.md,
 * docs/dashboard.md): they stay within a bounded memory, drive a new run, and the runs page answers.
 * A serve once looked at every run settled in the last day at once, each look parsing the whole journal
 * for itself: 1,000 runs took it to 2.5 GB, 5,000 out of memory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, FileEventStore, parseDefinition } from '../../../src/index.js';
import { cli, spawnCli, tempDir } from '../../helpers/cli.js';
import { killLeftovers } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait.js';

const RUNS = 2_000;
/** Peak resident memory allowed: what node, the command and its caches take, with room; not a speed figure. */
const BOUND_MB = 400;

let dir = '';
let storeDir = '';
beforeAll(async () => {
  dir = tempDir('lf-held-');
  storeDir = join(dir, '.ledgerflow');
  const { definition } = parseDefinition(`workflow:
  id: receipts
  tasks:
    - { id: scan, type: SIMPLE }
    - { id: file, type: SIMPLE, depends_on: [scan] }
`);
  const handlers = { scan: async () => ({ pages: 1 }), file: async () => ({ filed: true }) };
  const store = new FileEventStore(storeDir);
  const engine = createEngine({ store, storeDir });
  for (let i = 0; i < RUNS; i += 500) {
    const ids: string[] = [];
    for (let j = i; j < i + 500; j++)
      ids.push((await engine.startRun(definition!, {}, { runId: `receipt-${j}` })).runId);
    await Promise.all(ids.map((id) => engine.drive(id, { handlers })));
  }
  await store.close();
  writeFileSync(
    join(dir, 'tick.yaml'),
    'workflow:\n  id: tick\n  tasks:\n    - { id: t, type: SET, set: { done: true } }\n',
  );
}, 180_000);

/** The process's peak resident memory so far (Linux), in MB. */
function peakMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

describe(`a store of ${RUNS.toLocaleString('en')} settled runs`, () => {
  it('serve holds it in bounded memory and drives a new run', async () => {
    const serve = spawnCli(['--store', storeDir, 'serve', '--json'], { cwd: dir });
    let out = '';
    serve.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    serve.stderr!.resume();
    try {
      await waitFor('serve serving', () => out.includes('"kind":"serving"'), { timeout: 30_000 });
      const started = await cli(['--store', storeDir, 'run', 'tick.yaml', '--max-wait', '0', '--json'], { cwd: dir });
      const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
      await waitFor(
        'the new run settled',
        async () => {
          const s = await cli(['--store', storeDir, 'status', runId, '--json'], { cwd: dir });
          return (JSON.parse(s.stdout) as { status: string }).status === 'COMPLETED';
        },
        { timeout: 60_000, interval: 500 },
      );
      // Everything settled lately is looked at (notifications it may owe) a few at a time: wait for the looks to end.
      await waitFor(
        'serve idle',
        () => {
          const a = peakMb(serve.pid!);
          return new Promise<boolean>((r) => setTimeout(() => r(peakMb(serve.pid!) === a), 1000));
        },
        { timeout: 60_000 },
      );
      expect(peakMb(serve.pid!)).toBeLessThan(BOUND_MB);
    } finally {
      await killLeftovers([serve]);
    }
  }, 180_000);

  it('ui holds it in bounded memory and the runs page answers with the newest 50', async () => {
    const ui = spawnCli(['--store', storeDir, 'ui', '--port', '0', '--json'], { cwd: dir });
    let out = '';
    ui.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    ui.stderr!.resume();
    try {
      const info = await waitFor(
        'the ui listening',
        () => {
          try {
            return JSON.parse(out.split('\n')[0]!) as { base: string; token: string };
          } catch {
            return null;
          }
        },
        { timeout: 30_000 },
      );
      const page = await waitFor(
        'the runs page',
        async () => {
          const r = await fetch(`${info.base}api/runs?limit=50`, {
            headers: { authorization: `Bearer ${info.token}` },
          });
          return r.ok ? ((await r.json()) as { runs: { runId: string }[]; total: number }) : null;
        },
        { timeout: 60_000 },
      );
      expect(page.runs).toHaveLength(50);
      expect(page.total).toBeGreaterThanOrEqual(RUNS);
      await waitFor(
        'ui idle',
        () => {
          const a = peakMb(ui.pid!);
          return new Promise<boolean>((r) => setTimeout(() => r(peakMb(ui.pid!) === a), 1000));
        },
        { timeout: 60_000 },
      );
      expect(peakMb(ui.pid!)).toBeLessThan(BOUND_MB);
    } finally {
      await killLeftovers([ui]);
    }
  }, 180_000);
});
