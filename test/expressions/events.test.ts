import { describe, expect, it } from 'vitest';
import { ExpressionError } from '../../src/errors/index.js';
import {
  evaluateCondition,
  findRefs,
  parseCondition,
  refText,
  resolveTemplate,
  type Scope,
} from '../../src/expressions/index.js';

const scope: Scope = {
  input: {},
  workflow: { id: 'revenue_milestone', runId: 'ev-1', version: 1 },
  tasks: {},
  event: {
    id: 'e-42',
    type: 'revenue_milestone',
    time: '2026-11-01T00:00:00Z',
    source: 'billing',
    data: { month: '2026-10', revenue: 1_250_000, target: 1_000_000, regions: [{ name: 'EMEA', share: 0.6 }] },
  },
};

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExpressionError) return err.message;
    throw err;
  }
  throw new Error('expected an ExpressionError');
}

describe('${event.…} references', () => {
  it('parses the event fields and paths into data', () => {
    const refs = findRefs(
      '${event.id} ${event.type} ${event.time} ${event.source} ${event.data.regions[0].name} ${event}',
    );
    expect(refs.map((r) => r.ref)).toEqual([
      { kind: 'event', path: ['id'] },
      { kind: 'event', path: ['type'] },
      { kind: 'event', path: ['time'] },
      { kind: 'event', path: ['source'] },
      { kind: 'event', path: ['data', 'regions', '0', 'name'] },
      { kind: 'event', path: [] },
    ]);
    expect(refText(refs[4]!.ref)).toBe('${event.data.regions[0].name}');
  });

  it('refuses fields an event does not have, and paths into plain values', () => {
    expect(message(() => findRefs('${event.amount}'))).toContain(
      '"event.amount" is not an event field; the event has id, type, time, source, data (payload fields are under event.data)',
    );
    expect(message(() => findRefs('${event.id.length}'))).toContain(
      '"event.id" is a plain value and has no path "length"',
    );
    expect(message(() => findRefs('${event.data.__proto__}'))).toContain('property "__proto__" is not allowed');
  });

  it('resolves against the event in the scope, raw for a whole reference and as text inside a string', () => {
    expect(resolveTemplate('${event.data.revenue}', scope)).toBe(1_250_000);
    expect(resolveTemplate({ month: '${event.data.month}', ref: '${event.type}/${event.id}' }, scope)).toEqual({
      month: '2026-10',
      ref: 'revenue_milestone/e-42',
    });
    expect(resolveTemplate('${event.data.missing}', scope)).toBeUndefined();
  });

  it('reads as missing when the scope has no event (outside a trigger)', () => {
    const { event: _e, ...noEvent } = scope;
    expect(resolveTemplate('${event.data.revenue}', noEvent)).toBeUndefined();
    expect(evaluateCondition('event.data.revenue > 1000', noEvent)).toBe(false);
  });

  it('works bare and as ${} in conditions', () => {
    expect(evaluateCondition('event.data.revenue > 1000', scope)).toBe(true);
    expect(evaluateCondition('event.data.revenue >= ${event.data.target} && event.source == "billing"', scope)).toBe(
      true,
    );
    expect(evaluateCondition('event.data.regions[0].share > 0.5', scope)).toBe(true);
    expect(evaluateCondition('contains(["refund", "test"], event.type)', scope)).toBe(false);
    expect(parseCondition('event.data.revenue > 1').refs).toEqual([{ kind: 'event', path: ['data', 'revenue'] }]);
  });
});
