import { expect } from 'vitest';
import type { Diagnostic } from '../../src/errors/index.js';
import { parseDefinition, type ParseResult } from '../../src/definition/index.js';

/** 1-based line:col of the nth occurrence of `needle` in `text` (plus `shift` characters). */
export function pos(
  text: string,
  needle: string,
  opts: { nth?: number; shift?: number } = {},
): { line: number; col: number } {
  let at = -1;
  for (let i = 0; i <= (opts.nth ?? 0); i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" not found ${i + 1} times`);
  }
  at += opts.shift ?? 0;
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

/** A minimal valid workflow around the given task list (already indented by 4). */
export function wf(tasks: string, extra = ''): string {
  return `workflow:
  id: "test-wf"
  input:
    required:
      - folder
    optional:
      - strict_mode: false
${extra}  tasks:
${tasks}`;
}

export function only(result: ParseResult, code: string): Diagnostic {
  const found = result.diagnostics.filter((d) => d.code === code);
  expect(found, JSON.stringify(result.diagnostics, null, 1)).toHaveLength(1);
  return found[0]!;
}

export function parse(text: string): ParseResult {
  return parseDefinition(text, 'test.yaml');
}
