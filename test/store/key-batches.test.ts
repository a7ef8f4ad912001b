/**
 * Reads of one key asked for at once share requests (src/key-batches.ts),
 * but never one that was sent before the caller asked: each caller gets a value fetched after
 * its call, so a change that completed before the call is always seen.
 */
import { describe, expect, it } from 'vitest';
import { CoalescedReads } from '../../src/key-batches.js';

/** A fetch whose answers the test gives by hand, one per request, in order. */
function manual() {
  const pending: { key: string; resolve: (v: string) => void; reject: (e: unknown) => void }[] = [];
  const fetch = (key: string) =>
    new Promise<string>((resolve, reject) => {
      pending.push({ key, resolve, reject });
    });
  return { pending, reads: new CoalescedReads(fetch) };
}
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('CoalescedReads', () => {
  it('callers who ask while a request is in flight share the next request, sent after that one is answered', async () => {
    const { pending, reads } = manual();
    const first = reads.get('k');
    await tick();
    expect(pending.length).toBe(1);
    const later = Array.from({ length: 10 }, () => reads.get('k'));
    await tick();
    expect(pending.length).toBe(1); // not sent while the first is in flight
    pending[0]!.resolve('v1');
    expect(await first).toBe('v1');
    await tick();
    expect(pending.length).toBe(2);
    pending[1]!.resolve('v2'); // the value as it stands after they asked
    expect(await Promise.all(later)).toEqual(Array(10).fill('v2'));
  });

  it('keys do not wait for one another, and a failed request fails only its own callers', async () => {
    const { pending, reads } = manual();
    const a = reads.get('a');
    const b = reads.get('b');
    await tick();
    expect(pending.map((p) => p.key)).toEqual(['a', 'b']);
    const a2 = reads.get('a');
    pending[0]!.reject(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    await tick();
    expect(pending.length).toBe(3);
    pending[2]!.resolve('a-ok');
    pending[1]!.resolve('b-ok');
    expect(await a2).toBe('a-ok');
    expect(await b).toBe('b-ok');
    // Nothing in flight any more: the next read sends at once.
    const again = reads.get('a');
    await tick();
    expect(pending.length).toBe(4);
    pending[3]!.resolve('a-3');
    expect(await again).toBe('a-3');
  });
});
