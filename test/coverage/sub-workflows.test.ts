/** Path coverage of SUB_WORKFLOW and EMIT: a child completing and failing, an EMIT, each run against the runtime with scripted outcomes. */
import { describe, expect, it } from 'vitest';
import { ExpectationSchema, generatePaths, runPath, runExpectation } from '../../src/coverage/index.js';
import { def } from '../helpers/engine.js';

const d = def(`
workflow:
  id: calls
  name: Calls
  version: 1
  tasks:
    - id: call
      type: SUB_WORKFLOW
      workflow: child
      timeout: 10s
      retry_policy: { max_attempts: 2, initial_delay: 1s }
    - id: announce
      type: EMIT
      depends_on: [call]
      event: done
      data: { total: "\${call.output.total}" }
`);

describe('paths and test over SUB_WORKFLOW and EMIT', () => {
  const report = generatePaths(d);

  it('reach full coverage with a sub-workflow completing, failing and timing out, and an EMIT completing and failing', () => {
    expect(report.coverage.states.covered).toBe(report.coverage.states.total);
    expect(report.coverage.transitions.covered).toBe(report.coverage.transitions.total);
    const names = report.paths.map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/call fails after 2 attempts → run FAILED/),
        expect.stringMatching(/announce fails/),
      ]),
    );
    expect(report.paths.some((p) => p.outcome === 'COMPLETED')).toBe(true);
  });

  for (const p of report.paths) {
    it(`runs on the runtime: ${p.name}`, async () => {
      const r = await runPath(d, p);
      expect(r.failure).toBeNull();
      expect(r.ok).toBe(true);
    });
  }

  it("an expectation scripts the child's output and an EMIT's attempts", async () => {
    const ok = await runExpectation(
      d,
      ExpectationSchema.parse({
        name: 'child output flows on',
        outputs: { call: { total: 3 } },
        expect: { status: 'COMPLETED', tasks: { call: 'COMPLETED', announce: 'COMPLETED' } },
      }),
    );
    expect(ok.failures).toEqual([]);
    const failing = await runExpectation(
      d,
      ExpectationSchema.parse({
        name: 'the EMIT fails',
        attempts: { announce: ['fatal'] },
        expect: { status: 'FAILED', tasks: { call: 'COMPLETED', announce: 'FAILED' } },
      }),
    );
    expect(failing.failures).toEqual([]);
  });
});
