/**
 * The run page's "input (resolved)": for every attempt, what attemptInputs
 * computes from the log is exactly what the runtime handed the handler —
 * templates over earlier outputs, loop iterations, and a retried attempt.
 */
import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../src/runtime/index.js';
import { attemptInputs } from '../../src/server/attempt-inputs.js';
import { def, engine, runToIdle } from '../helpers/engine.js';

const workflow = def(`
workflow:
  id: resolved
  name: Inputs from templates
  version: 1
  input:
    required:
      - region: { type: string }
  tasks:
    - { id: fetch, type: SIMPLE, input: { region: "\${workflow.input.region}" } }
    - id: rounds
      type: DO_WHILE
      depends_on: [fetch]
      loop_over: [check]
      loop_condition: "check.output.n < 2"
    - id: check
      type: SIMPLE
      input: { round: "\${rounds.output.iteration}", rows: "\${fetch.output.rows}" }
    - id: load
      type: SIMPLE
      depends_on: [rounds, check]
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 1ms }
      input: { rows: "\${fetch.output.rows}", last: "\${check.output.n}", literal: 7 }
`);

describe('attemptInputs', () => {
  it('gives each task the input its latest attempt ran with, as the handler received it; at an earlier event, the earlier attempt', async () => {
    const { engine: e } = engine();
    const got: Record<string, Record<string, unknown>[]> = {};
    const seen = (task: string, input: Record<string, unknown>) => {
      (got[task] ??= []).push(input);
    };
    let loads = 0;
    const view = await runToIdle(
      e,
      workflow,
      { region: 'eu' },
      {
        fetch: (input: Record<string, unknown>) => {
          seen('fetch', input);
          return { rows: 42 };
        },
        check: (input: Record<string, unknown>, ctx: TaskContext) => {
          seen(`check#${ctx.iteration}`, input);
          return { n: ctx.iteration };
        },
        load: (input: Record<string, unknown>) => {
          seen('load', input);
          if (++loads === 1) throw new Error('flaky');
          return {};
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    const events = await e.events(view.runId);
    const inputs = attemptInputs(events);
    expect(inputs.fetch).toMatchObject({ attempt: 1, input: { region: 'eu' } });
    expect(inputs['check#1']).toMatchObject({ task: 'check', iteration: 1, input: got['check#1']![0] });
    expect(inputs['check#2']).toMatchObject({ task: 'check', iteration: 2, input: { round: 2, rows: 42 } });
    expect(inputs['check#2']!.input).toEqual(got['check#2']![0]);
    expect(inputs.load).toMatchObject({ attempt: 2, input: { rows: 42, last: 2, literal: 7 } });
    expect(inputs.load!.input).toEqual(got.load![1]);
    // Time travel: up to the first load attempt's start, that attempt; before fetch ran, nothing.
    const firstLoad = events.find((ev) => ev.type === 'task.started' && ev.data.task === 'load')!;
    expect(attemptInputs(events.filter((ev) => ev.seq <= firstLoad.seq)).load).toMatchObject({
      attempt: 1,
      seq: firstLoad.seq,
    });
    expect(attemptInputs(events.slice(0, 1))).toEqual({});
  });

  it('gives a HUMAN task waiting for approval its input resolved (it starts no attempt): the values an approver decides on', async () => {
    const { engine: e } = engine();
    const review = def(`
workflow:
  id: review
  name: Approve what validation found
  version: 1
  tasks:
    - { id: validate_compliance, type: SIMPLE }
    - id: approve
      type: HUMAN
      depends_on: [validate_compliance]
      approvers: [alice]
      input: { violations: "\${validate_compliance.output.violations}", literal: 1 }
`);
    const view = await runToIdle(
      e,
      review,
      {},
      { validate_compliance: () => ({ violations: [{ rule: 'MARPOL-6' }] }) },
    );
    expect(view.tasks.approve!.status).toBe('PENDING_APPROVAL');
    const events = await e.events(view.runId);
    const inputs = attemptInputs(events);
    expect(inputs.approve).toEqual({
      task: 'approve',
      attempt: 1,
      seq: events.at(-1)!.seq,
      input: { violations: [{ rule: 'MARPOL-6' }], literal: 1 },
    });
    // Before it waited (time travel to the start): nothing for it.
    expect(attemptInputs(events.slice(0, 2)).approve).toBeUndefined();
  });
});
