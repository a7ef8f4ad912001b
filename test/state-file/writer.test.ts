/**
 * The state file's writer when the disk is full (docs/state-file.md, "A failed
 * write stops no run"): a write that fails (ENOSPC, injected through the
 * writer's `write` option, not by filling a disk) does not fail the run, is
 * said once a minute at most, and the whole file and its worksets are written
 * again once space returns, with no further commit asking. And the workset's
 * failures and retries, from the run's log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Engine } from '../../src/local/index.js';
import { buildProjection, StateFileWriter, writeAtomically } from '../../src/state-file/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { observedStore } from '../../src/store/observed.js';
import { tempDir } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const FLAKY = def(`
workflow:
  id: flaky-sign-off
  name: A flaky check, then sign-off
  description: Check the change and have it signed off
  tasks:
    - id: check
      type: SIMPLE
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 10ms }
    - { id: sign_off, type: HUMAN, depends_on: [check], timeout: 1h }
`);

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('the state file writer on a full disk', () => {
  it('the run goes on, one warning a minute, and the whole file and worksets come back when space does', async () => {
    const dir = tempDir();
    const path = join(dir, '.3ox', 'workflow.state.yaml');
    const memory = new MemoryEventStore();
    let full = true;
    let now = Date.UTC(2026, 10, 25, 12);
    const warnings: string[] = [];
    const attempts: string[] = [];
    const writer = new StateFileWriter(memory, {
      path,
      keep: 50,
      warn: (m) => warnings.push(m),
      now: () => now,
      intervalMs: 0,
      retryMs: 20,
      write: async (p, text) => {
        attempts.push(p);
        if (full) throw enospc();
        await writeAtomically(p, text);
      },
    });
    const e = new Engine({ store: observedStore(memory, [writer]) });
    let calls = 0;
    const view = await e.run(
      FLAKY,
      {},
      {
        handlers: {
          check: async () => {
            if (++calls === 1) throw new Error('flaky');
            return { ok: true };
          },
        },
        maxTimerWaitMs: 5000,
      },
    );
    await writer.flush();

    // The run went on to wait for its sign-off; every write failed, and was said once.
    expect(view.status).toBe('WAITING');
    expect(attempts.length).toBeGreaterThan(0);
    expect(existsSync(path)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^cannot write the state file .*workflow\.state\.yaml: ENOSPC: no space left on device.*; the runs go on/,
    );

    // Within the minute: not said again. A minute later: said again, once.
    now += 30_000;
    writer.touch();
    await writer.flush();
    expect(warnings).toHaveLength(1);
    now += 31_000;
    writer.touch();
    await writer.flush();
    expect(warnings).toHaveLength(2);

    // Space comes back: no commit asks, and still the whole file is written (the writer tries again on its own).
    full = false;
    await waitFor('the state file written again', () => existsSync(path), { timeout: 10_000 });
    await writer.close();
    const expected = await buildProjection(memory, 50);
    expect(readFileSync(path, 'utf8')).toBe(expected.text);
    const wsPath = join(dir, '.3ox', 'worksets', `ws-${view.runId}.yaml`);
    expect(readFileSync(wsPath, 'utf8')).toBe(expected.worksets.get(view.runId));
    expect(warnings).toHaveLength(2);

    // The workset of this run, from its log: the failed attempt that was retried, the sign-off pending.
    const ws = (parse(readFileSync(wsPath, 'utf8')) as { workset: Record<string, any> }).workset;
    expect(ws).toMatchObject({
      id: `ws-${view.runId}`,
      goal: 'Check the change and have it signed off',
      status: 'waiting',
      owner: 'manual',
      workflow_instance: view.runId,
      workflow: {
        definition: 'flaky-sign-off',
        instance_id: view.runId,
        state: 'WAITING',
        current_task: 'sign_off',
        progress: '50%',
      },
      failures: { count: 1, retries: [{ task: 'check', attempt: 1, failed: expect.any(String), error: 'flaky' }] },
      approvals: [{ task: 'sign_off', status: 'pending', requested: expect.any(String), timeout: expect.any(String) }],
    });
    expect(ws.tasks).toEqual([
      { id: 'check', status: 'COMPLETED', started: expect.any(String), completed: expect.any(String), attempts: 2 },
      { id: 'sign_off', status: 'PENDING_APPROVAL', started: expect.any(String) },
    ]);
  }, 30_000);
});
