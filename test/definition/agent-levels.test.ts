/**
 * `agent_level` as seed 003 writes it ("L3", "L2") loads; anything that is not
 * one of the four levels is refused at its line:col (docs/language.md).
 */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';

const wf = (level: string) => `workflow:
  id: levels
  tasks:
    - id: scan
      type: SIMPLE
      agent_level: ${level}
`;

describe('agent_level', () => {
  it('takes the seed\'s "L3" and a bare number, recorded as the level', () => {
    const quoted = parseDefinition(wf('"L3"'), 'levels.yaml');
    expect(quoted.definition?.tasks[0]?.agentLevel).toBe('L3');
    expect(parseDefinition(wf('2'), 'levels.yaml').definition?.tasks[0]?.agentLevel).toBe('L2');
  });

  it('refuses a level that is not one, at its line:col, naming the four', () => {
    const r = parseDefinition(wf('worker'), 'levels.yaml');
    expect(r.definition).toBeNull();
    const d = r.diagnostics.find((x) => x.code === 'LF_AGENT_LEVEL')!;
    expect(d).toMatchObject({ severity: 'error', line: 6, col: 20 });
    expect(d.message).toContain(
      'agent_level "worker" is not a level; write one of L0 (Commander), L1 (CMD.BRIDGE), L2 (Station OPS), L3 (Worker)',
    );
  });
});
