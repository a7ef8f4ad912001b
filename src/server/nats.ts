/** The NATS backend (in progress). */
import { UsageError } from '../errors/index.js';
import type { Actor, Backend } from './backend.js';
import type { Auth } from './auth.js';

export async function natsBackend(_opts: { url: string; definitionsDir?: string }): Promise<Backend & { signIn(user: string, password: string): Promise<{ close(): Promise<void> }>; actorOf(auth: Auth): Actor }> {
  throw new UsageError('ledgerflow ui --nats is not finished yet in this build', {});
}
