/**
 * A large output is stored from the value, its JSON made a MiB at a time (src/executor/json-chunks.ts): what is stored
 * must be byte for byte what JSON.stringify makes, or the digest a run records would depend on the output's size.
 */
import { describe, expect, it } from 'vitest';
import { jsonBytes, jsonPieces, surelyOver } from '../../src/executor/json-chunks.js';

const text = (v: unknown) => [...jsonPieces(v)].join('');
const bytes = (v: unknown) => Buffer.concat([...jsonBytes(v)]).toString('utf8');

class Money {
  constructor(readonly cents: number) {}
  toJSON(key: string) {
    return { amount: this.cents / 100, key };
  }
}

describe('a value turned to JSON in pieces', () => {
  const values: [string, unknown][] = [
    ['scalars', [1, -0, 1.5e300, Number.NaN, Number.POSITIVE_INFINITY, true, false, null, 'a"b\\c\n\u0001é😀']],
    ['left out or null', { a: undefined, f: () => 1, s: Symbol('x'), list: [undefined, () => 1, Symbol('y')], z: 0 }],
    ['toJSON, with its key', { when: new Date('2026-11-28T10:00:00Z'), pay: new Money(1234), list: [new Money(5)] }],
    ['boxed primitives', [new Number(3), new String('s'), new Boolean(false)]],
    ['nested and empty', { a: { b: { c: [[], {}, [{}]] } }, '': 'empty key', 'key "q"': 1 }],
    ['a lone surrogate', ['\ud800', 'x\udfffy']],
    ['a Map and a Set', { m: new Map([[1, 2]]), s: new Set([1]) }],
  ];
  for (const [name, v] of values)
    it(`is JSON.stringify's text: ${name}`, () => {
      expect(text(v)).toBe(JSON.stringify(v));
      expect(bytes(v)).toBe(JSON.stringify(v));
    });

  it('gives nothing where JSON.stringify gives undefined, and throws where it throws', () => {
    expect(text(undefined)).toBe('');
    expect(text(() => 1)).toBe('');
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    expect(() => text(loop)).toThrow(TypeError);
    expect(() => text({ n: 10n })).toThrow(TypeError);
  });

  it('writes a string of many MiB a slice at a time, never cutting a surrogate pair', () => {
    // 😀 is two UTF-16 units: placed so that slices of 1 MiB units would end between its halves.
    const big = `${'a'.repeat((1 << 20) - 1)}😀${'\n"'.repeat(600_000)}😀`;
    const v = { big, after: 1 };
    const pieces = [...jsonBytes(v)];
    expect(pieces.length).toBeGreaterThan(2);
    expect(Math.max(...pieces.map((p) => p.byteLength))).toBeLessThan(8 << 20);
    expect(Buffer.concat(pieces).toString('utf8')).toBe(JSON.stringify(v));
  });

  it('lets a caller refuse a key as it passes', () => {
    const seen: string[] = [];
    [...jsonPieces({ a: { b: 1 }, c: [{ d: 2 }], u: undefined }, (k) => seen.push(k))];
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('surelyOver', () => {
  it('says yes only when the strings and keys alone pass the limit', () => {
    expect(surelyOver({ body: 'x'.repeat(2000) }, 1024)).toBe(true);
    expect(surelyOver({ body: 'x'.repeat(1000) }, 1024)).toBe(false);
    expect(surelyOver(['x'.repeat(600), 'y'.repeat(600)], 1024)).toBe(true);
    // Numbers are not counted: no false yes, maybe a no for a large value (JSON.stringify's path then measures it).
    expect(
      surelyOver(
        Array.from({ length: 1000 }, (_, i) => i * 1e9),
        1024,
      ),
    ).toBe(false);
    expect(surelyOver(null, 0)).toBe(false);
  });
});
