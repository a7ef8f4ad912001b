/**
 * `ledgerflow serve` holding thousands of runs waiting for a person (docs/serve.md, "Runs waiting for days"): it takes
 * them all up within a bounded memory, an approval given by `ledgerflow approve` in another process moves one on at
 * once, and SIGTERM lets them all go. A serve once held a driver per waiting run (about 40 KB each, all taken up at
 * once): 5,000 waiting runs took it past 370 MB, 20,000 to 1.1 GB and out of file descriptors.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, FileEventStore, parseDefinition } from '../../../src/index.js';
import { cli, spawnCli, tempDir } from '../../helpers/cli.js';
import { killLeftovers } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait.js';

const RUNS = 5_000;
/** Peak resident memory allowed: node, the command and its caches, and under 25 KB a waiting run; not a speed figure. */
const BOUND_MB = 260;

let dir = '';
let storeDir = '';
const ids: string[] = [];
beforeAll(async () => {
  dir = tempDir('lf-waiting-');
  storeDir = join(dir, '.ledgerflow');
  const { definition } = parseDefinition(`workflow:
  id: expenses
  tasks:
    - { id: sign_off, type: HUMAN, approvers: [alice] }
    - { id: counter_sign, type: HUMAN, approvers: [alice], depends_on: [sign_off] }
    - { id: file, type: WAIT, duration: 10ms, depends_on: [counter_sign] }
`);
  const store = new FileEventStore(storeDir);
  const engine = createEngine({ store, storeDir });
  const made = await engine.run(definition!, {}, { handlers: {}, runId: 'expense-template' });
  expect(made.status).toBe('WAITING');
  await store.close();
  // The other runs: the same log under other ids, as another process would have left them (serve takes them up).
  const template = readFileSync(join(storeDir, 'runs', 'expense-template.jsonl'), 'utf8');
  for (let i = 0; i < RUNS; i++) {
    const id = `expense-${String(i).padStart(5, '0')}`;
    ids.push(id);
    writeFileSync(join(storeDir, 'runs', `${id}.jsonl`), template.split('expense-template').join(id));
  }
}, 180_000);

/** The process's peak resident memory so far (Linux), in MB. */
function peakMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

describe(`serve with ${RUNS.toLocaleString('en')} runs waiting for an approval`, () => {
  it('takes them all up in bounded memory; an approval from another process moves one on; SIGTERM lets all go', async () => {
    const serve = spawnCli(['--store', storeDir, 'serve', '--json'], { cwd: dir });
    const driving = new Set<string>();
    let settled = '';
    let out = '';
    serve.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        const n = JSON.parse(l) as { kind: string; runId?: string; status?: string };
        if (n.kind === 'run.driving' && n.runId) driving.add(n.runId);
        if (n.kind === 'run.settled' && n.runId === ids[7]) settled = n.status ?? '';
      }
    });
    let err = '';
    serve.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitFor('every waiting run taken up', () => ids.every((id) => driving.has(id)), {
        timeout: 150_000,
        interval: 500,
        detail: () => `${driving.size} of ${RUNS}; ${err.slice(-2000)}`,
      });
      // Said as it is taken up, before its lease is taken: approve leaves it to the serve once the lease is there.
      await waitFor('the serve holding the run to approve', () =>
        existsSync(join(storeDir, 'runs', `${ids[7]}.driver`)),
      );
      // The first approval moves the run on to a second person: the serve holds it throughout (it never lets the lease go
      // between), so approve always finds it held. With the run's last task approved instead, a serve quick enough could
      // settle it and let it go before approve looks, and approve then rightly finds it settled: a race, not a defect.
      const approved = await cli(['--store', storeDir, 'approve', ids[7]!, 'sign_off', '--as', 'alice'], { cwd: dir });
      expect(approved.code, approved.stderr).toBe(0);
      // The serve holds it (approve leaves it to the serve), and moves it on.
      expect(approved.stdout).toMatch(/driven by pid \d+ \(a ledgerflow serve/);
      await waitFor(
        'the serve moving the run on to the second approval',
        async () => {
          const now = await cli(['--store', storeDir, 'status', ids[7]!, '--json'], { cwd: dir });
          const tasks = (JSON.parse(now.stdout) as { tasks: Record<string, { status: string }> }).tasks;
          return tasks.counter_sign?.status === 'PENDING_APPROVAL';
        },
        { timeout: 30_000 },
      );
      const countersigned = await cli(['--store', storeDir, 'approve', ids[7]!, 'counter_sign', '--as', 'alice'], {
        cwd: dir,
      });
      expect(countersigned.code, countersigned.stderr).toBe(0);
      await waitFor('the approved run completed by serve', () => settled === 'COMPLETED', {
        timeout: 30_000,
        detail: () => err.slice(-2000),
      });
      const status = await cli(['--store', storeDir, 'status', ids[8]!, '--json'], { cwd: dir });
      expect((JSON.parse(status.stdout) as { status: string }).status).toBe('WAITING');
      expect(peakMb(serve.pid!)).toBeLessThan(BOUND_MB);
      serve.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => serve.on('close', (c) => r(c)));
      expect(code).toBe(0);
      expect(err).not.toContain('EMFILE');
    } finally {
      await killLeftovers([serve]);
    }
  }, 240_000);
});
