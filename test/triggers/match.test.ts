import { describe, expect, it } from 'vitest';
import { matchTriggers, runIdForEvent, type TriggerEvent } from '../../src/triggers/index.js';
import { def, event, triggered } from './helpers.js';

const ev = (data: Record<string, unknown>, type = 'payment_received') => event(type, data) as TriggerEvent;

describe('matchTriggers', () => {
  it('matches a trigger whose event is the event type, and no other', () => {
    const defs = [def(triggered('a', 'payment_received')), def(triggered('b', 'refund_issued'))];
    expect(matchTriggers(defs, ev({ amount: 5 })).map((m) => m.definition.id)).toEqual(['a']);
    expect(matchTriggers(defs, ev({ amount: 5 }, 'unknown_thing'))).toEqual([]);
  });

  it('starts a workflow only when its filter holds', () => {
    const defs = [def(triggered('big', 'payment_received', { filter: 'event.data.amount > 1000' }))];
    expect(matchTriggers(defs, ev({ amount: 1200 }))).toHaveLength(1);
    expect(matchTriggers(defs, ev({ amount: 1000 }))).toEqual([]);
    // A missing field reads as null: the comparison is false, not an error.
    expect(matchTriggers(defs, ev({}))).toEqual([]);
  });

  it('maps the input from the event: raw values, interpolated text, event id, type and time', () => {
    const d = def(
      triggered('a', 'payment_received', {
        inputs: 'amount, customer, ref',
        input:
          '{ amount: "${event.data.amount}", customer: "${event.data.customer}", ref: "${event.type}/${event.id}@${event.time}" }',
      }),
    );
    const [m] = matchTriggers([d], ev({ amount: 12.5, customer: { id: 'c-9', tier: 'gold' } }));
    expect(m!.input).toEqual({
      amount: 12.5,
      customer: { id: 'c-9', tier: 'gold' },
      ref: 'payment_received/e-1@2026-11-01T09:00:00Z',
    });
  });

  it('leaves out inputs the event does not carry, so their defaults apply', () => {
    const d = def(
      triggered('a', 'payment_received', { input: '{ amount: "${event.data.amount}", note: "${event.data.note}" }' }),
    );
    expect(matchTriggers([d], ev({ amount: 1 }))[0]!.input).toEqual({ amount: 1 });
  });

  it('uses the first matching trigger of a definition: one run per event and workflow', () => {
    const d = def(
      [
        'workflow:',
        '  id: two',
        '  input: { required: [size] }',
        '  triggers:',
        '    - { event: order, filter: "event.data.n > 10", input: { size: big } }',
        '    - { event: order, input: { size: any } }',
        '  tasks: [{ id: t, type: SIMPLE }]',
        '',
      ].join('\n'),
    );
    expect(matchTriggers([d], ev({ n: 50 }, 'order')).map((m) => [m.triggerIndex, m.input])).toEqual([
      [0, { size: 'big' }],
    ]);
    expect(matchTriggers([d], ev({ n: 5 }, 'order')).map((m) => [m.triggerIndex, m.input])).toEqual([
      [1, { size: 'any' }],
    ]);
  });

  it('gives each match the run id of its (event, workflow) pair, visible to the mapping as workflow.runId', () => {
    const d = def(
      triggered('a', 'payment_received', { inputs: 'amount, run', input: '{ amount: 1, run: "${workflow.runId}" }' }),
    );
    const [m] = matchTriggers([d], ev({}));
    expect(m!.runId).toBe(runIdForEvent('e-1', 'a'));
    expect(m!.input.run).toBe(m!.runId);
  });
});

describe('runIdForEvent', () => {
  it('is the same for every delivery of an event and differs per workflow and per event', () => {
    const id = runIdForEvent('3f6c1a2e-1b7d-4c1e-9a57-0c2d1e0f4b11', 'revenue_milestone');
    expect(id).toBe(runIdForEvent('3f6c1a2e-1b7d-4c1e-9a57-0c2d1e0f4b11', 'revenue_milestone'));
    expect(id).toMatch(/^ev-[0-9a-f]{20}$/);
    expect(runIdForEvent('3f6c1a2e-1b7d-4c1e-9a57-0c2d1e0f4b11', 'lead_qualification')).not.toBe(id);
    expect(runIdForEvent('another-event', 'revenue_milestone')).not.toBe(id);
  });

  it('is a safe run id (file name, subject token) whatever the event id holds', () => {
    expect(runIdForEvent('../../etc/passwd', 'x')).toMatch(/^ev-[0-9a-f]{20}$/);
    expect(runIdForEvent('a b.c*>', 'x')).toMatch(/^ev-[0-9a-f]{20}$/);
    // The last / separates the workflow id (which never holds one), so these pairs differ.
    expect(runIdForEvent('a/b', 'c')).not.toBe(runIdForEvent('a', 'b-c'));
  });
});
