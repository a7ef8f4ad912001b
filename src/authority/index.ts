/** Authority: the L0–L3 hierarchy, the one rule every store applies (levels.ts). Pure; the users file is src/users/. */
export {
  atLeast,
  judge,
  LEVEL_NAMES,
  LEVELS,
  levelText,
  parseLevel,
  type Action,
  type ActionContext,
  type Actor,
  type Level,
} from './levels.js';
export { requireAllowed } from './require.js';
