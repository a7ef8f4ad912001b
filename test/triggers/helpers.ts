/** Test helpers for triggers: definitions from YAML text and events with defaults. */
import type { LoadedDefinition } from '../../src/files/index.js';
import { def } from '../helpers/engine.js';

export { def };

export const event = (type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'e-1',
  type,
  time: '2026-11-01T09:00:00Z',
  data,
  ...extra,
});

/** A small workflow with one SIMPLE task `work`, triggered by `type`. */
export function triggered(
  id: string,
  type: string,
  opts: { filter?: string; input?: string; inputs?: string } = {},
): string {
  return [
    'workflow:',
    `  id: ${id}`,
    '  input:',
    `    required: [${opts.inputs ?? 'amount'}]`,
    '    optional: [{ note: { type: string, default: none } }]',
    '  triggers:',
    `    - event: ${type}`,
    ...(opts.filter ? [`      filter: '${opts.filter}'`] : []),
    `      input: ${opts.input ?? '{ amount: "${event.data.amount}" }'}`,
    '  tasks:',
    '    - id: work',
    '      type: SIMPLE',
    '      input: { amount: "${workflow.input.amount}", note: "${workflow.input.note}" }',
    '',
  ].join('\n');
}

export function loaded(yamlText: string, handlersPath = 'memory:handlers'): LoadedDefinition {
  return {
    definition: def(yamlText),
    warnings: [],
    file: `/defs/${Math.random().toString(36).slice(2)}.yaml`,
    handlersPath,
  };
}
