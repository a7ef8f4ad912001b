/** Small versions of two workflows and a parent, and how the diff tests compare them (diff.test.ts, diff-io.test.ts). */
import { expect } from 'vitest';
import { diffDefinitions, type CheckedDefinition, type Finding } from '../../src/check/index.js';
import { parseDefinition } from '../../src/definition/index.js';

export function checked(text: string, file: string): CheckedDefinition {
  const { definition, diagnostics } = parseDefinition(text, file);
  expect(definition, diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n')).not.toBeNull();
  return { definition: definition!, file, text };
}

export const diff = (before: string, after: string, parents?: CheckedDefinition[]) =>
  diffDefinitions(checked(before, 'old.yaml'), checked(after, 'new.yaml'), parents ? { parents } : {});

/** rule, level and where, as a person scans them. */
export const brief = (fs: Finding[]) =>
  fs.map((f) => `${f.rule} ${f.level} ${f.location.file}:${f.location.line}:${f.location.col}`);

// Lines: 8 `tasks:`, 9 pick, 13 pick's output, 14 pack, 17 pack's depends_on, 18 pack's input, 19 `output:`.
export const BASE = `workflow:
  id: ship
  name: Ship
  version: 1
  input:
    required:
      - order_id
  tasks:
    - id: pick
      type: SIMPLE
      handler: pick
      input: { order: "\${workflow.input.order_id}" }
      output: [box, weight]
    - id: pack
      type: SIMPLE
      handler: pack
      depends_on: [pick]
      input: { box: "\${pick.output.box}" }
  output:
    box: "\${pick.output.box}"
`;
export const LABEL = '    - id: label\n      type: SIMPLE\n      handler: label\n      depends_on: [pack]\n';
export const withLabel = BASE.replace('  output:\n', `${LABEL}  output:\n`);

// Lines: 9 decide, 11 `decision_cases:`, 12 big, 13 small.
export const ROUTE = `workflow:
  id: route
  name: Route
  version: 1
  input:
    required:
      - amount: { type: number }
  tasks:
    - id: decide
      type: DECISION
      decision_cases:
        big: { condition: "workflow.input.amount > 100", next: [big_path] }
        small: { condition: "workflow.input.amount <= 100", next: [small_path] }
    - id: big_path
      type: SIMPLE
      handler: big
    - id: small_path
      type: SIMPLE
      handler: small
`;

// A parent in the folder: starts `ship` (line 9) and reads its output `box` (line 17).
export const PARENT = `workflow:
  id: batch
  name: Batch
  version: 1
  input:
    required:
      - order_id
  tasks:
    - id: one
      type: SUB_WORKFLOW
      workflow: ship
      input: { order_id: "\${workflow.input.order_id}" }
    - id: after
      type: SIMPLE
      handler: after
      depends_on: [one]
      input: { box: "\${one.output.box}" }
`;
