import { describe, expect, it } from 'vitest';
import { buildInput, initialText } from '../../../src/server/web/input-form.js';
import type { InputDecl } from '../../../src/definition/types.js';

const decls: InputDecl[] = [
  { name: 'folder', required: true, type: 'string' },
  { name: 'limit', required: false, type: 'number', default: 10 },
  { name: 'dry', required: false, type: 'boolean' },
  { name: 'tags', required: false, type: 'array' },
  { name: 'extra', required: false, type: 'any' },
];

describe('the start form', () => {
  it('types each declared input and leaves empty optional ones to their defaults', () => {
    const { input, problems } = buildInput(decls, {
      folder: ' /srv ',
      limit: '25',
      dry: 'true',
      tags: '["a"]',
      extra: 'plain text',
    });
    expect(problems).toEqual([]);
    expect(input).toEqual({ folder: ' /srv ', limit: 25, dry: true, tags: ['a'], extra: 'plain text' });
    expect(buildInput(decls, { folder: 'x', limit: '' }).input).toEqual({ folder: 'x' });
    expect(initialText(decls[1]!)).toBe('10');
  });

  it('names the field of a missing or mistyped value', () => {
    const { problems } = buildInput(decls, { limit: 'ten', tags: '{"a":1}' });
    expect(problems.map((p) => p.field)).toEqual(['folder', 'limit', 'tags']);
  });
});
