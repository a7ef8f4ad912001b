/**
 * The core hashes through a port (src/digest): portable sha256 by default, Node's native one once an
 * executor is loaded. Recorded state hashes are a contract, so the two must agree on every text,
 * including non-ASCII, astral and lone-surrogate text (both encode UTF-8 with U+FFFD for a lone half).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { portableDigest, sha256Hex } from '../../src/digest/index.js';
import { nativeDigest } from '../../src/executor/native-digest.js';

const texts = [
  '',
  'abc',
  '{"value":{"running":{"a":"done"}},"tasks":[["a","COMPLETED",1,null]],"timers":[]}',
  'é€😀',
  'half \ud800 surrogate',
  'x'.repeat(100_000),
];

describe('the digest port', () => {
  it('portable and native sha256 agree with node:crypto on every text, whole and in pieces', () => {
    for (const text of texts) {
      const expected = createHash('sha256').update(text).digest('hex');
      expect(portableDigest.hex(text)).toBe(expected);
      expect(nativeDigest.hex(text)).toBe(expected);
      // In pieces (the chunked state hash): split only where no surrogate pair is cut in two.
      const pieces = text.match(/[\s\S]{1,7}/gu) ?? [];
      for (const impl of [portableDigest, nativeDigest]) {
        const h = impl.create();
        for (const piece of pieces) h.update(piece);
        expect(h.hex()).toBe(expected);
      }
    }
  });

  it('loading an executor installs the native digest; hashes stay the same', async () => {
    const before = sha256Hex('ledgerflow');
    await import('../../src/executor/index.js');
    expect(sha256Hex('ledgerflow')).toBe(before);
    expect(before).toBe(createHash('sha256').update('ledgerflow').digest('hex'));
  });
});
