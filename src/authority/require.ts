/**
 * The refusal every store gives for an action a level does not allow: an AuthorityError (LF_AUTHORITY_REFUSED: exit 2,
 * HTTP 403) naming the level needed and the user's, thrown before anything is recorded. Pure.
 */
import { AuthorityError } from '../errors/index.js';
import { judge, type Action, type ActionContext, type Actor } from './levels.js';

/** Throws what `actor` may not do; an actor no users file proved (undefined) is not judged. */
export function requireAllowed(actor: Actor | undefined, action: Action, ctx: ActionContext = {}): void {
  if (!actor) return;
  const v = judge(actor, action, ctx);
  if (!v.allowed) throw new AuthorityError(v.reason, { user: actor.name, have: v.have, need: v.need, action });
}
