/**
 * The record of when runs were restored (src/store/archive/restores.ts), which archival's rounds count a restored
 * run's retention from: a year of restores kept, a document that is not one refused naming where it is and the fix.
 */
import { describe, expect, it } from 'vitest';
import { parseRestores, withRestore } from '../../src/store/archive/restores.js';
import { StoreError } from '../../src/errors/index.js';

describe('the restores record', () => {
  it('adds a restore and drops the ones no retention can reach any more (over 366 days old)', () => {
    const now = new Date('2026-12-01T09:00:00.000Z');
    const prev = new Map([
      ['old', '2025-11-29T09:00:00.000Z'],
      ['recent', '2026-06-01T00:00:00.000Z'],
    ]);
    const doc = parseRestores(withRestore(prev, 'run-1', now), 'restored.json');
    expect([...doc]).toEqual([
      ['recent', '2026-06-01T00:00:00.000Z'],
      ['run-1', '2026-12-01T09:00:00.000Z'],
    ]);
    expect(parseRestores(withRestore(doc, 'recent', now), 'x').get('recent')).toBe('2026-12-01T09:00:00.000Z');
  });

  it('none yet is empty; a document that is not one is a StoreError naming it and what to do', () => {
    expect(parseRestores(null, 'restored.json').size).toBe(0);
    for (const bad of ['{', '[]', '{"run-1": "yesterday"}', '{"run-1": 5}']) {
      const err = (() => {
        try {
          parseRestores(bad, '/s/archive/restored.json');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toContain('/s/archive/restored.json is not a record of restored runs');
      expect((err as Error).message).toContain('remove it');
    }
  });
});
