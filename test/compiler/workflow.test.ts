/**
 * The workflow value (src/compiler/workflow.ts): a definition object has its
 * own, built once; definitions read from logs share the value of their hash;
 * a limits-bound copy is kept by the value it was bound from. What a user of
 * the library relies on: a definition object they load behaves as plain
 * data (its keys, its JSON, its copies are unchanged), and an edited copy is
 * never run as the original.
 */
import { describe, expect, it } from 'vitest';
import { workflowOf } from '../../src/compiler/index.js';
import { definitionHash, type GlobalLimits } from '../../src/definition/index.js';
import { RunCommits } from '../../src/executor/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';

const YAML = `
workflow:
  id: carried
  version: 1
  tasks:
    - { id: fetch, type: SIMPLE, queue: payments }
    - { id: charge, type: SIMPLE, depends_on: [fetch], concurrency: { limit: 2 } }
`;

describe('a definition object has its workflow value', () => {
  it('builds it once: the same value each time, with the hash and the JSON of that definition', () => {
    const d = def(YAML);
    const w = workflowOf(d);
    expect(workflowOf(d)).toBe(w);
    expect(w.definition).toBe(d);
    expect(w.hash).toBe(definitionHash(d));
    expect(w.json).toBe(JSON.stringify(d));
  });

  it('stays plain data: its keys, JSON, copies and equality are what they were', () => {
    const d = def(YAML);
    const before = { keys: Object.keys(d), json: JSON.stringify(d), copy: structuredClone(d) };
    workflowOf(d);
    expect(Object.keys(d)).toEqual(before.keys);
    expect(JSON.stringify(d)).toBe(before.json);
    expect(d).toEqual(before.copy);
    expect(Object.getOwnPropertySymbols(d)).toEqual([]);
  });

  it("an edited copy is its own workflow, never the original's", () => {
    const d = def(YAML);
    const w = workflowOf(d);
    const edited = { ...d, version: 2 };
    expect(workflowOf(edited)).not.toBe(w);
    expect(workflowOf(edited).hash).toBe(definitionHash(edited));
    expect(workflowOf(edited).hash).not.toBe(w.hash);
  });

  it('definitions read from logs share the value of their hash, and each keeps its own JSON', () => {
    const d = def(YAML);
    const w = workflowOf(d, definitionHash(d));
    // The same content decoded again (every run.started is), in another key order.
    const decoded = JSON.parse(JSON.stringify(d));
    expect(workflowOf(decoded, definitionHash(d))).toBe(w);
    const reordered = Object.fromEntries(Object.entries(decoded).reverse()) as unknown as typeof d;
    expect(workflowOf(reordered, definitionHash(reordered))).toBe(w);
  });

  it("a start records the bytes of the object it was given, not those of the shared value's definition", async () => {
    const d = def(YAML);
    workflowOf(d);
    const reordered = Object.fromEntries(Object.entries(d).reverse()) as unknown as typeof d;
    const store = new MemoryEventStore();
    const commits = new RunCommits({ store });
    for (const given of [d, reordered]) {
      const [started] = await store.read(await commits.start(given, {}));
      expect(JSON.stringify(started!.type === 'run.started' && started!.data.definition)).toBe(JSON.stringify(given));
    }
  });
});

describe("a workflow value under the limits file's limits", () => {
  const limits: GlobalLimits = { queues: { payments: { concurrency: { limit: 1 } } }, handlers: {} };

  it('gates the tasks those limits name, and keeps one bound copy per limits object', () => {
    const w = workflowOf(def(YAML));
    expect([...w.gates.keys()]).toEqual(['charge']);
    const bound = w.bound(limits);
    expect(bound).not.toBe(w);
    expect(w.bound(limits)).toBe(bound);
    expect(bound.limits).toBe(limits);
    expect([...bound.gates.keys()].sort()).toEqual(['charge', 'fetch']);
    // The same chart, hash and plans as the value it was bound from.
    expect(bound.interpreter).toBe(w.interpreter);
    expect(bound.hash).toBe(w.hash);
  });

  it('rebinds from the value itself, and no limits (or empty ones) give the value back', () => {
    const w = workflowOf(def(YAML));
    const bound = w.bound(limits);
    const other: GlobalLimits = { queues: {}, handlers: {} };
    expect(bound.bound(other)).toBe(w);
    expect(bound.bound(undefined)).toBe(w);
    const again: GlobalLimits = { queues: { payments: { concurrency: { limit: 3 } } }, handlers: {} };
    expect(bound.bound(again).limits).toBe(again);
    expect(Object.getPrototypeOf(bound.bound(again))).toBe(w);
    expect(bound.base).toBe(w);
    expect(w.base).toBe(w);
  });
});
