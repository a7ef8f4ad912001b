/**
 * A retry started through the library (what the dashboard's Retry button and
 * a serve driving it do: Engine.retry records the start, the driver runs the
 * rest) is a run started: the process that recorded its start commit counts
 * it, as it counts any run whose first step it commits.
 */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { Engine } from '../../src/local/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';

const YAML = `workflow:
  id: retried
  version: 1
  tasks:
    - id: one
      type: SIMPLE
      handler: ok
    - id: two
      type: SIMPLE
      handler: flaky
      depends_on: [one]
`;

const sample = (text: string, series: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${series} `))
      ?.split(' ')[1],
  );

describe('runs started, for a retry recorded with Engine.retry', () => {
  it('counts the retry as a run started, so started = completed + failed', async () => {
    const { definition } = parseDefinition(YAML, 'retried.yaml');
    const metrics = createMetrics();
    const engine = new Engine({ store: new FileEventStore(tempDir()), ...metrics.hooks });
    let fail = true;
    const handlers = {
      ok: async () => ({ ok: true }),
      flaky: async () => {
        if (fail) throw new Error('the disk was full');
        return { ok: true };
      },
    };
    const failed = await engine.run(definition!, {}, { handlers });
    expect(failed.status).toBe('FAILED');
    fail = false;
    // The reused output of `one` completes in the start commit: the retry's first step is in it.
    const retryId = await engine.retry(failed.runId);
    const done = await engine.drive(await engine.load(retryId), { handlers, untilSettled: true });
    expect(done.status).toBe('COMPLETED');
    const text = await metrics.text();
    expect(sample(text, 'ledgerflow_runs_failed_total{workflow="retried"}')).toBe(1);
    expect(sample(text, 'ledgerflow_runs_completed_total{workflow="retried"}')).toBe(1);
    expect(sample(text, 'ledgerflow_runs_started_total{workflow="retried"}')).toBe(2);
    // `one` was reused, not run again: one attempt of it in all.
    expect(sample(text, 'ledgerflow_task_attempts_total{workflow="retried",task="one"}')).toBe(1);
  });
});
