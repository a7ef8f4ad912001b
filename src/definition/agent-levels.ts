/**
 * A task's `agent_level` is one of the L0–L3 levels (authority/levels.ts): `L0`–`L3`, in any case, or the number 0–3.
 * Anything else would be enforced as nothing, so it is refused where it is written.
 */
import { LEVEL_NAMES, LEVELS, parseLevel } from '../authority/index.js';
import type { CheckContext } from './context.js';
import { isObj } from './issues.js';

export function checkAgentLevels(ctx: CheckContext): void {
  const tasks = Array.isArray(ctx.wf.tasks) ? ctx.wf.tasks : [];
  tasks.forEach((t, i) => {
    if (!isObj(t) || t.agent_level === undefined || parseLevel(t.agent_level) !== null) return;
    // Not a string or a number: the schema says so.
    if (typeof t.agent_level !== 'string' && typeof t.agent_level !== 'number') return;
    const levels = LEVELS.map((l) => `${l} (${LEVEL_NAMES[l]})`).join(', ');
    ctx.error(
      'LF_AGENT_LEVEL',
      `agent_level ${JSON.stringify(t.agent_level)} is not a level; write one of ${levels}: the least authority of an agent that may execute the task, or of who may approve a HUMAN task`,
      ['workflow', 'tasks', i, 'agent_level'],
    );
  });
}
