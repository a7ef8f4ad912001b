/**
 * checkAppend's JSON is what every store writes: it must be exactly
 * JSON.stringify of the parsed commit, also where it reuses a definition's
 * JSON across runs (and also when the same definition object is seen again
 * after its first encoding, or the envelope carries keys the schema strips).
 */
import { describe, expect, it } from 'vitest';
import { CommitSchema, type EventEnvelope } from '../../src/events/index.js';
import { checkAppend } from '../../src/store/common.js';
import { def } from '../helpers/engine.js';
import { ev } from './helpers.js';

const definition = def(`
workflow:
  id: wf
  name: "A \\"quoted\\" name, unicode ✓"
  version: 1
  input: { optional: [x] }
  tasks:
    - { id: a, type: SIMPLE, input: { text: "\${workflow.input.x}" } }
    - { id: b, type: SIMPLE, depends_on: [a] }
`) as unknown as Record<string, unknown>;

function started(runId: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}): EventEnvelope {
  return { ...ev(runId, 1), ...extra, data } as EventEnvelope;
}

describe('checkAppend', () => {
  it('encodes every commit exactly as JSON.stringify of the parsed commit', () => {
    const cases: { runId: string; events: EventEnvelope[] }[] = [];
    for (let i = 0; i < 3; i++) {
      // The same definition object in several runs (its JSON is reused), with and without source and input.
      cases.push({
        runId: `r${i}`,
        events: [started(`r${i}`, { definition, definitionHash: 'h', input: { x: `v${i}`, n: i } }), ev(`r${i}`, 2)],
      });
      cases.push({
        runId: `s${i}`,
        events: [
          started(`s${i}`, { definition, definitionHash: 'h', input: {}, source: { file: 'f.yaml', event: 'e1' } }),
        ],
      });
    }
    // Keys the schema strips, in the envelope and in the data; data keys in another order.
    cases.push({
      runId: 'x1',
      events: [started('x1', { input: { a: 1 }, definitionHash: 'h', definition, junk: 1 }, { extra: true })],
    });
    // A definition-like object seen for the first time, then changed copies (new objects: new JSON).
    cases.push({
      runId: 'x2',
      events: [started('x2', { definition: { ...definition, name: 'other' }, definitionHash: 'h2', input: {} })],
    });
    cases.push({
      runId: 'x3',
      events: [ev('x3', 5), ev('x3', 6, { output: { nested: [1, 'two', { three: null }] } })],
    });
    for (const c of cases) {
      const expectedSeq = c.events[0]!.seq - 1;
      const checked = checkAppend({ runId: c.runId, expectedSeq, dedupId: `d-${c.runId}`, events: c.events });
      expect(checked.json).toBe(JSON.stringify(CommitSchema.parse({ dedupId: `d-${c.runId}`, events: c.events })));
      expect(JSON.parse(checked.json)).toEqual(checked.commit);
    }
  });
});
