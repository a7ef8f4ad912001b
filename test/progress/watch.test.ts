/**
 * `ledgerflow watch` and a task's progress (docs/runs.md#watch-runs-in-the-terminal): the frame's bar, percentage and
 * ETA in the task's row, its message in the details (drawn from a run folded from events, the progress as the poller
 * hands it); and one CLI run on the embedded store, stdout a pipe: a progress line with the bar and the ETA while the
 * page's handler runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { renderFrame, trackRun } from '../../src/monitor/index.js';
import type { TaskProgress } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/cli.js';
import { spawnIn, stopSpawned } from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';
import { SCAN_YAML, heldHandlers, scanFolder } from './docs.js';
import { parseDefinition } from '../../src/definition/index.js';

afterEach(stopSpawned);

describe("watch's frame with progress", () => {
  it('draws the bar, the percentage and the ETA in the row, the message in the details', () => {
    const definition = parseDefinition(SCAN_YAML).definition!;
    const t0 = '2026-01-01T00:00:00.000Z';
    const base = { runId: 'r1', workflowId: 'archive-scan', version: 1 };
    const events = [
      {
        ...base,
        seq: 1,
        id: 'e1',
        time: t0,
        type: 'run.started',
        data: { definition, input: { folder: 'data' }, definitionHash: 'h' },
        state: { status: 'RUNNING' },
      },
      {
        ...base,
        seq: 2,
        id: 'e2',
        time: t0,
        type: 'task.started',
        data: { task: 'scan', attempt: 1 },
        state: { status: 'RUNNING' },
      },
    ] as unknown as EventEnvelope[];
    const run = trackRun(events);
    const p: TaskProgress = {
      fraction: 0.4,
      message: 'scanned 400 of 1000 files',
      at: '2026-01-01T00:00:08.000Z',
      attempt: 1,
      live: true,
      startedAt: t0,
      eta: '2026-01-01T00:00:20.000Z',
    };
    const frame = renderFrame([{ ...run, progress: new Map([['scan', p]]) }], {
      now: Date.parse('2026-01-01T00:00:10.000Z'),
      width: 140,
      color: false,
      tail: 0,
    });
    expect(frame.split('\n')[1]).toBe(
      '  ● scan  running  ████░░░░░░░░ 40% ETA 10s  attempt 1  10.0s  scanned 400 of 1000 files',
    );
  });
});

describe('ledgerflow watch <run> (embedded store, stdout a pipe)', () => {
  it("prints the page's handler's progress as it changes: the bar, the percentage, the ETA and the message", async () => {
    const dir = tempDir('lf-watch-progress-');
    const folder = scanFolder(dir);
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    const release = join(dir, 'release');
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(release));
    const run = spawnIn(dir, ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'watched', '--store', 'store']);
    await waitFor('the run to start', () => run.output().includes('watched'), { timeout: 30_000, detail: run.output });
    const watch = spawnIn(dir, ['watch', 'watched', '--store', 'store']);
    const line = await waitFor(
      'a progress line at 40%',
      () =>
        watch
          .output()
          .split('\n')
          .find((l) => /progress {2}scan {2}.* 40%/.test(l)),
      { timeout: 30_000, detail: watch.output },
    );
    // The page's handler reports 40% a few ms into its attempt and then goes quiet (held): by the time watch shows it the
    // estimate from the attempt's start has passed, which reads overdue, never a finished-sounding "ETA 0s" at 40%.
    expect(line).toMatch(
      / {2}watched {2}progress {2}scan {2}█{8}░{12} 40% ETA (overdue|[1-9]\d*s) {2}scanned 4 of 10 files$/,
    );
    writeFileSync(release, '');
    expect(await run.exited, run.output()).toBe(0);
    expect(await watch.exited, watch.output()).toBe(0);
  }, 60_000);
});
