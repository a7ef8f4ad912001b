/**
 * Seed 003's hierarchy as docs/users.md tells it: every level × every action,
 * a task's agent_level raising what it asks, an L2's domains.
 */
import { describe, expect, it } from 'vitest';
import { judge, LEVELS, parseLevel, type Action, type Level } from '../../src/authority/index.js';

const actor = (level: Level, domains?: string[]) => ({ name: `u-${level}`, level, ...(domains ? { domains } : {}) });

describe('authority levels L0–L3', () => {
  it('each level may do what the table says, and everything a lower level may', () => {
    // Rows: the levels; columns: approve, control, deploy, limits, schedules, start (no domain), execute, read.
    const actions: Action[] = ['approve', 'control', 'deploy', 'limits', 'schedules', 'start', 'execute', 'read'];
    const allowed: Record<Level, boolean[]> = {
      L0: [true, true, true, true, true, true, true, true],
      L1: [false, true, true, true, true, true, true, true],
      L2: [false, false, false, false, false, false, true, true],
      L3: [false, false, false, false, false, false, true, false],
    };
    for (const level of LEVELS)
      expect(
        actions.map((a) => judge(actor(level), a, { workflowId: 'w' }).allowed),
        level,
      ).toEqual(allowed[level]);
  });

  it('reading what the log holds (archive list on NATS) asks L2, the lowest level whose NATS user reads the log', () => {
    expect(judge(actor('L3'), 'read')).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('reading runs needs L2 (Station OPS) or higher'),
    });
  });

  it('an L2 starts the workflows of its domains only, and says which it has', () => {
    expect(
      judge(actor('L2', ['inventory']), 'start', { workflowId: 'inventory-validation', domain: 'inventory' }).allowed,
    ).toBe(true);
    const other = judge(actor('L2', ['inventory']), 'start', { workflowId: 'payroll', domain: 'finance' });
    expect(other).toMatchObject({ allowed: false, need: 'L1', have: 'L2' });
    expect(other.allowed ? '' : other.reason).toBe(
      'u-L2 is L2 (Station OPS); starting payroll needs L1 (CMD.BRIDGE) or higher (an L2 starts the workflows of its domains: inventory; payroll is in domain finance)',
    );
  });

  it("a task's agent_level raises or lowers what approving and executing it ask", () => {
    expect(judge(actor('L1'), 'approve', { task: 'sign_off', taskLevel: 'L1' }).allowed).toBe(true);
    expect(judge(actor('L2'), 'approve', { task: 'sign_off', taskLevel: 'L1' })).toMatchObject({
      allowed: false,
      need: 'L1',
      have: 'L2',
    });
    expect(judge(actor('L3'), 'execute', { task: 'validate', taskLevel: 'L2' })).toMatchObject({
      allowed: false,
      need: 'L2',
    });
    expect(judge(actor('L2'), 'execute', { task: 'validate', taskLevel: 'L2' }).allowed).toBe(true);
    const refused = judge(actor('L3'), 'approve', { task: 'sign_off' });
    expect(refused.allowed ? '' : refused.reason).toBe(
      'u-L3 is L3 (Worker); approving sign_off needs L0 (Commander) or higher',
    );
  });

  it('reads L2, l2, 2 and " L2 " as one level, and nothing else', () => {
    for (const v of ['L2', 'l2', 2, '2', ' L2 ']) expect(parseLevel(v)).toBe('L2');
    for (const v of ['L4', 'worker', 4, -1, '', null, undefined, ['L2']]) expect(parseLevel(v)).toBeNull();
  });
});
