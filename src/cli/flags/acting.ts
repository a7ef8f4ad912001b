/**
 * Who a command acts as on the embedded store (docs/users.md). Without a users file: the name given (`--as`,
 * LEDGERFLOW_USER, $USER), unchecked, as before: the file system is the boundary. With one: a user of it, proven by the
 * password in LEDGERFLOW_PASSWORD (asked for at a terminal when it is unset), whose level then decides what the command
 * may do (authority/levels.ts).
 */
import {
  atLeast,
  requireAllowed,
  type Action,
  type ActionContext,
  type Actor,
  type Level,
} from '../../authority/index.js';
import { LedgerflowError } from '../../errors/index.js';
import { loadUsers, usersFilePath, verifySecret } from '../../users/index.js';
import { defaultActor } from './input-flags.js';
import { canPrompt, promptPassword } from './password-prompt.js';

/** Who acts; as it is, who acts for the run API too (src/runs/: the name, and what the users file proved). */
export interface Acting {
  name: string;
  /** Set when a users file proved who this is: what the command may do is judged by it. */
  actor?: Actor;
  level?: Level;
}

export async function actingUser(
  as: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
  prompt = env === process.env,
): Promise<Acting> {
  const name = as ?? (env.LEDGERFLOW_USER || defaultActor());
  const path = usersFilePath(undefined, env, cwd);
  const file = await loadUsers(path);
  // The dashboard's first users file (a list of tokens) named dashboard users only: the CLI judges nobody from it.
  if (!file || file.legacy) return { name };
  const refuse = (why: string) =>
    new LedgerflowError('LF_SIGN_IN_FAILED', `cannot act as ${name}: ${why}`, { name, file: path });
  const user = file.users.get(name);
  if (!user)
    throw refuse(
      `${name} is not in the users file ${path}; act as one of its users (--as <name> or LEDGERFLOW_USER, with LEDGERFLOW_PASSWORD)`,
    );
  if (!user.password)
    throw refuse(
      `${name} has no password in ${path}; give one with \`ledgerflow users passwd ${name} --password-stdin\``,
    );
  // A script gives LEDGERFLOW_PASSWORD; a person at a terminal is asked (not echoed).
  let password = env.LEDGERFLOW_PASSWORD;
  if ((password === undefined || password === '') && prompt && canPrompt())
    password = (await promptPassword(`password for ${name} (users file ${path}): `)) ?? undefined;
  if (password === undefined || password === '')
    throw refuse(
      `a users file is in use (${path}): give ${name}'s password in LEDGERFLOW_PASSWORD (or run the command at a terminal, which asks for it)`,
    );
  if (!(await verifySecret(password, user.password))) throw refuse('wrong password');
  return { name, actor: user, level: user.level };
}

/** Refuses (exit 2, nothing done) what the user's level does not allow; a user no file proved is not judged. */
export function requireLevel(acting: Pick<Acting, 'actor'>, action: Action, ctx: ActionContext = {}): void {
  requireAllowed(acting.actor, action, ctx);
}

/**
 * Starting a run of `definition`: the bridge's (L1), or a Station OPS's (L2) for a workflow of its domains. One
 * function for `run`, `start` and the bridge's `@workflow`, so none of them can judge a start differently.
 */
export function requireStart(
  acting: Pick<Acting, 'actor'>,
  definition: { id: string; domain?: string | undefined },
): void {
  requireLevel(acting, 'start', {
    workflowId: definition.id,
    ...(definition.domain ? { domain: definition.domain } : {}),
  });
}

/**
 * What a start records of who asked (run.started's `source.by`): the user a users file proved, else nothing (a name
 * nobody proved is not recorded as the starter). A WAIT without `from:` takes its signal from the run's starter and L1
 * or higher (runtime/signals.ts), as over NATS, where the engine records the person's start so.
 */
export function startedBy(acting: { name?: string; actor?: Actor } | undefined): { by?: string } {
  return acting?.actor && acting.name !== undefined ? { by: acting.name } : {};
}

/**
 * `acting` with no more authority than `level`: what a bridge's inbox acts as (its files act as the bridge's signed-in
 * user, never above the level the inbox was given), judged then as any command of theirs is.
 */
export function atMost(acting: Acting, level: Level): Acting {
  if (!acting.actor || !acting.level || atLeast(level, acting.level)) return acting;
  return { ...acting, level, actor: { ...acting.actor, level } };
}
