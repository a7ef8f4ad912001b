/**
 * Authority: the L0–L3 hierarchy, the one rule every store applies
 * (levels.ts). Pure; the users file it is applied from is src/users/.
 */
export { ACTION_LEVELS, atLeast, judge, LEVEL_NAMES, LEVELS, levelText, parseLevel, type Action, type ActionContext, type Actor, type AuthorityVerdict, type Level } from './levels.js';
export { requireAllowed } from './require.js';
