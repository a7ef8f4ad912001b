import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/errors/index.js';
import { def, engine, runToIdle } from '../helpers/engine.js';

const d = def(`
workflow:
  id: with-steps
  name: With failure steps
  version: 1
  failure_workflow:
    steps: [log_incident, notify]
  tasks:
    - { id: work, type: SIMPLE }
    - { id: slow, type: SIMPLE }
    - { id: after, type: SIMPLE, depends_on: [work] }
    - { id: log_incident, type: SIMPLE }
    - { id: notify, type: SIMPLE, depends_on: [log_incident] }
`);

describe('failure_workflow { steps } (inline)', () => {
  it('skips the steps when the run does not fail', async () => {
    const { engine: e } = engine();
    const ran: string[] = [];
    const h = (id: string) => () => { ran.push(id); return {}; };
    const view = await runToIdle(e, d, {}, { work: h('work'), slow: h('slow'), after: h('after'), log_incident: h('log_incident'), notify: h('notify') });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.log_incident!.status).toBe('SKIPPED');
    expect(view.tasks.notify!.status).toBe('SKIPPED');
    expect(ran.sort()).toEqual(['after', 'slow', 'work']);
  });

  it('on a fatal failure: pending tasks are skipped, running ones finish, the steps run in their order, then the run ends FAILED with the failed task\'s error', async () => {
    const { engine: e } = engine();
    const ran: string[] = [];
    let releaseSlow!: () => void;
    const slowDone = new Promise<void>((r) => { releaseSlow = r; });
    const view = await runToIdle(e, d, {}, {
      work: () => { throw new NonRetryableError('broken', 'BROKEN'); },
      slow: async () => { await slowDone; ran.push('slow'); return { finished: true }; },
      after: () => { ran.push('after'); return {}; },
      log_incident: () => { ran.push('log_incident'); releaseSlow(); return {}; },
      notify: () => { ran.push('notify'); throw new NonRetryableError('pager down', 'PAGER'); },
    });
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatchObject({ code: 'BROKEN', task: 'work' });
    expect(view.tasks.after!.status).toBe('SKIPPED');
    expect(view.tasks.slow).toMatchObject({ status: 'COMPLETED', output: { finished: true } });
    expect(view.tasks.log_incident!.status).toBe('COMPLETED');
    expect(view.tasks.notify!.status).toBe('FAILED');
    expect(ran).toEqual(['log_incident', 'slow', 'notify']);
  });
});
