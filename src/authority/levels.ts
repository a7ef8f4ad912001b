/**
 * The L0–L3 agent hierarchy, the one authority rule every store applies:
 *
 *   L0 Commander    approves HUMAN tasks
 *   L1 CMD.BRIDGE   starts, pauses, resumes, cancels and retries runs; archives
 *                   and restores them, collects unreferenced payloads; deploys
 *                   definitions; sets limits and schedules; rotates data keys
 *   L2 Station OPS  starts runs of the workflows in their domains
 *   L3 Worker       executes tasks
 *
 * A smaller number is more authority, and a level may do whatever a level below it may (an L0 may start any run, an L1
 * execute any task). A task's `agent_level` raises what it asks: a SIMPLE task's is the least level of an agent that
 * may execute it (default L3), a HUMAN task's the least level that may approve it (default L0). Pure: no I/O, no clock.
 */

export const LEVELS = ['L0', 'L1', 'L2', 'L3'] as const;
export type Level = (typeof LEVELS)[number];

export const LEVEL_NAMES: Readonly<Record<Level, string>> = {
  L0: 'Commander',
  L1: 'CMD.BRIDGE',
  L2: 'Station OPS',
  L3: 'Worker',
};

/** What someone asks to do. */
export type Action =
  | 'approve'
  | 'control'
  | 'deploy'
  | 'limits'
  | 'schedules'
  | 'keys'
  | 'start'
  | 'execute'
  /** What the log holds, as an engine answers a person for it (`archive list` on NATS): whoever reads the log, L2 up. */
  | 'read';

/** The level each action asks for when nothing raises it (a task's agent_level, a workflow's domain). */
export const ACTION_LEVELS: Readonly<Record<Action, Level>> = {
  approve: 'L0',
  control: 'L1',
  deploy: 'L1',
  limits: 'L1',
  schedules: 'L1',
  keys: 'L1',
  start: 'L1',
  execute: 'L3',
  read: 'L2',
};

const ACTION_WORDS: Readonly<Record<Action, string>> = {
  approve: 'approving',
  control: 'controlling runs',
  deploy: 'deploying definitions',
  limits: 'setting limits',
  schedules: 'changing schedules',
  keys: 'rotating data keys',
  start: 'starting',
  execute: 'executing',
  read: 'reading runs',
};

/** `L2`, `l2`, `2` or the number 2 → `L2`; null for anything else. */
export function parseLevel(v: unknown): Level | null {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim().toUpperCase() : null;
  if (s === null) return null;
  const level = /^\d$/.test(s) ? `L${s}` : s;
  return (LEVELS as readonly string[]).includes(level) ? (level as Level) : null;
}

/** Whether `have` is `need` or a higher authority. */
export function atLeast(have: Level, need: Level): boolean {
  return LEVELS.indexOf(have) <= LEVELS.indexOf(need);
}

/** `L2 (Station OPS)`. */
export function levelText(level: Level): string {
  return `${level} (${LEVEL_NAMES[level]})`;
}

/** Who acts: their name, level and (for an L2) the domains whose workflows they may start. */
export interface Actor {
  name: string;
  level: Level;
  domains?: readonly string[];
}

/** What raises or scopes an action: the task's agent_level, the workflow's domain, names for the message. */
export interface ActionContext {
  taskLevel?: Level;
  domain?: string;
  workflowId?: string;
  task?: string;
}

export type AuthorityVerdict = { allowed: true } | { allowed: false; need: Level; have: Level; reason: string };

/** The level `action` asks for in `ctx`, and whether `actor` has it. */
export function judge(actor: Actor, action: Action, ctx: ActionContext = {}): AuthorityVerdict {
  const need = neededLevel(actor, action, ctx);
  if (atLeast(actor.level, need)) return { allowed: true };
  const what =
    action === 'approve' && ctx.task
      ? `approving ${ctx.task}`
      : action === 'start' && ctx.workflowId
        ? `starting ${ctx.workflowId}`
        : action === 'execute' && ctx.task
          ? `executing ${ctx.task}`
          : ACTION_WORDS[action];
  const domainNote =
    action === 'start' && actor.level === 'L2'
      ? ` (an L2 starts the workflows of its domains${actor.domains?.length ? `: ${actor.domains.join(', ')}` : ', and has none'}; ${ctx.workflowId ?? 'this workflow'} is ${ctx.domain ? `in domain ${ctx.domain}` : 'in no domain'})`
      : '';
  return {
    allowed: false,
    need,
    have: actor.level,
    reason: `${actor.name} is ${levelText(actor.level)}; ${what} needs ${levelText(need)} or higher${domainNote}`,
  };
}

function neededLevel(actor: Actor, action: Action, ctx: ActionContext): Level {
  if (action === 'approve' || action === 'execute') return ctx.taskLevel ?? ACTION_LEVELS[action];
  // A Station OPS starts the workflows of its own domains; any other start is the bridge's.
  if (action === 'start' && ctx.domain !== undefined && actor.domains?.includes(ctx.domain)) return 'L2';
  return ACTION_LEVELS[action];
}
