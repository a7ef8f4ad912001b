import type { NatsConnection } from '@nats-io/nats-core';
import { AttemptTokens } from '../../src/cluster/transport/attempt-tokens.js';
import { AttemptLedger } from '../../src/cluster/transport/attempts.js';
import { jetstream } from '@nats-io/jetstream';

/**
 * The attempt ledger key of an attempt, as the engines compute it (with its token's digest), read
 * through a connection of the engine user (which may read the engines' secret in LF_ENGINE).
 */
export async function ledgerKeyOf(
  nc: NatsConnection,
  runId: string,
  instance: string,
  attempt: number,
  restart = 0,
  queue = 'default',
): Promise<string> {
  const tokens = await AttemptTokens.open(jetstream(nc));
  return AttemptLedger.key(
    queue,
    runId,
    instance,
    attempt,
    restart,
    tokens.tokenFor(runId, instance, attempt),
    tokens.claimTokenFor(runId, instance, attempt, restart),
  );
}
