import { describe, expect, it } from 'vitest';
import { admitEvent, parseEventTypeFile, type EventTypeSpec, type TriggerCatalog } from '../../src/triggers/index.js';
import { def, event, triggered } from './helpers.js';

const paymentSchema = parseEventTypeFile(
  [
    'type: payment_received',
    'schema:',
    '  type: object',
    '  required: [amount, currency]',
    '  properties:',
    '    amount: { type: number, minimum: 0 }',
    '    currency: { type: string, enum: [EUR, USD] }',
    'sample: { amount: 10, currency: EUR }',
    '',
  ].join('\n'),
  'events/payment_received.yaml',
  'payment_received',
);

function catalog(defs: string[], types: EventTypeSpec[] = [paymentSchema]): TriggerCatalog {
  return { definitions: defs.map(def), eventTypes: new Map(types.map((t) => [t.type, t])) };
}

describe('admitEvent: what is rejected, and why', () => {
  const cat = catalog([triggered('pay', 'payment_received')]);

  it('rejects an envelope without id, a bad time or a payload that is not an object, naming each field', () => {
    const r = admitEvent({ type: 'payment_received', time: 'yesterday', data: [1, 2] }, cat);
    expect(r).toMatchObject({ accepted: false, stage: 'envelope' });
    if (r.accepted) return;
    expect(r.problems).toEqual([
      'id: missing (required)',
      'time: expected an ISO 8601 date-time such as 2026-11-01T09:00:00Z',
      'data: expected an object (the event payload)',
    ]);
    expect(r.reason).toMatch(/^not a valid event: id: missing/);
  });

  it('rejects an event type that could name a path', () => {
    const r = admitEvent(event('../payment_received', {}), cat);
    expect(r).toMatchObject({
      accepted: false,
      stage: 'envelope',
      problems: [expect.stringMatching(/^type: expected letters, digits/)],
    });
  });

  it("rejects data that breaks the type's schema, with every reason", () => {
    const r = admitEvent(event('payment_received', { amount: -3, currency: 'GBP' }), cat);
    expect(r).toMatchObject({ accepted: false, stage: 'schema' });
    if (r.accepted) return;
    expect(r.problems).toEqual([
      'data.amount: Too small: expected number to be >=0',
      'data.currency: Invalid option: expected one of "EUR"|"USD"',
    ]);
    expect(r.reason).toBe(
      'event e-1 does not fit the schema of payment_received: data.amount: Too small: expected number to be >=0; data.currency: Invalid option: expected one of "EUR"|"USD"',
    );
  });

  it('rejects a type with neither a schema nor a trigger, listing the known types', () => {
    const r = admitEvent(event('payment_recieved', { amount: 1 }), catalog([triggered('x', 'order_placed')]));
    expect(r).toMatchObject({
      accepted: false,
      stage: 'unknown_type',
      reason:
        'unknown event type "payment_recieved": no events/payment_recieved.yaml schema and no workflow triggers on it; known types: order_placed, payment_received',
    });
  });

  it('accepts a type some workflow triggers on but that has no schema, with a warning', () => {
    const r = admitEvent(event('order_placed', { amount: 7 }), catalog([triggered('x', 'order_placed')]));
    expect(r).toMatchObject({
      accepted: true,
      warnings: ['no schema for event type order_placed (events/order_placed.yaml): its data is not validated'],
    });
    if (r.accepted) expect(r.matches.map((m) => m.input)).toEqual([{ amount: 7, note: 'none' }]);
  });

  it('accepts a valid event no filter lets through, starting nothing', () => {
    const r = admitEvent(
      event('payment_received', { amount: 5, currency: 'EUR' }),
      catalog([triggered('big', 'payment_received', { filter: 'event.data.amount > 100' })]),
    );
    expect(r).toMatchObject({ accepted: true, matches: [], warnings: [] });
  });

  it('rejects the whole event when one matching workflow cannot take its input: no run starts', () => {
    const typed = triggered('typed', 'order_placed', { inputs: '{ amount: { type: number } }' });
    const r = admitEvent(
      event('order_placed', { amount: 'lots' }),
      catalog([triggered('loose', 'order_placed'), typed]),
    );
    expect(r).toMatchObject({ accepted: false, stage: 'input' });
    if (!r.accepted)
      expect(r.problems).toEqual(['workflow typed (triggers[0]): input amount must be a number, got "lots"']);
  });

  it('checks inputs against the declaration: defaults filled, values kept', () => {
    const r = admitEvent(event('payment_received', { amount: 12, currency: 'USD' }), cat);
    expect(r.accepted && r.matches.map((m) => ({ id: m.definition.id, input: m.input }))).toEqual([
      { id: 'pay', input: { amount: 12, note: 'none' } },
    ]);
  });
});
