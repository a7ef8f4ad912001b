/**
 * Who is speaking on NATS. Inputs are published on lf.inputs.<sender>.<runId> and nats.conf lets each user publish
 * under its own name only, so on a server with users the sender token is proven; engines record it as who reported
 * each outcome. On a server without users anyone may claim any name: engines record it marked `unauthenticated`.
 */
import { randomBytes } from 'node:crypto';
import { connect } from '../../store/index.js';
import { credentials } from './messages.js';
import { ANONYMOUS_SENDER, token } from './subjects.js';
import { errorMessage } from '../../errors/index.js';

/** The NATS user a URL connects as (the first server's, for a comma-separated list), or `anonymous`. */
export function senderOf(url: string): string {
  const first = url.split(',')[0]!.trim();
  let user: string | undefined;
  try {
    user = credentials(first).user;
  } catch {
    user = undefined;
  }
  if (!user) return ANONYMOUS_SENDER;
  try {
    return token(user);
  } catch {
    throw new Error(
      `NATS user "${user}" cannot name itself in a subject (inputs go to lf.inputs.<user>.<runId>): use letters, digits, _ and - in user names`,
    );
  }
}

/**
 * Whether a NATS server authenticates its clients. The INFO's auth_required is no answer (a `no_auth_user` maps clients
 * without credentials to a user, and the server then says none are required), so ask the server: credentials no user
 * has are refused by a server with users and ignored by one without.
 */
export async function hasUsers(url: string): Promise<boolean> {
  const { servers } = credentials(url.split(',')[0]!.trim());
  try {
    const nc = await connect({
      servers,
      user: 'ledgerflow-probe',
      pass: randomBytes(12).toString('hex'),
      name: 'ledgerflow-auth-probe',
      maxReconnectAttempts: 0,
    });
    await nc.close();
    return false;
  } catch (err) {
    if (
      /authorization|authentication/i.test(String((err as { code?: unknown }).code ?? '')) ||
      /authorization|authentication/i.test(errorMessage(err))
    )
      return true;
    throw err;
  }
}
