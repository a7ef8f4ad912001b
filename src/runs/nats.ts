/**
 * Runs on NATS: a person's input is published under the identity the
 * connection proves and judged by the engine that records it (nats.conf's
 * permissions, then the same rules as the embedded store); with no engine
 * listening it is judged and recorded here, marked unauthenticated when no
 * NATS user proves the name (cluster/client/run-inputs.ts).
 */
import { deliverInput, freshRunId, requestStart, type ClusterClient } from '../cluster/index.js';
import { runReads } from './reads.js';
import type { Acting, InputOutcome, Retried, RunInput, Runs } from './port.js';

export interface NatsRunsOptions {
  client: ClusterClient;
  /** The server's URL: a user in it is who acts (a name given must be that user). */
  url: string;
  /** Who acts when no NATS user and no name is given. */
  fallback: string;
}

export function natsRuns(opts: NatsRunsOptions): Runs {
  return {
    store: 'nats',
    ...runReads(opts.client.store),
    input(runId: string, input: RunInput, as: Acting, how: { waitMs?: number } = {}): Promise<InputOutcome> {
      return deliverInput(opts.client, opts.url, runId, input, { ...(as.name !== undefined ? { as: as.name } : {}), fallback: opts.fallback, waitMs: how.waitMs ?? 0 });
    },
    async retry(runId: string, _as: Acting, how: { runId?: string; waitMs?: number } = {}): Promise<Retried> {
      // A person's user may not write the log: the engines judge their level (L1) and record it as theirs.
      if (!(await opts.client.mayWriteLog())) {
        const out = await requestStart(opts.url, { retryOf: runId, runId: freshRunId() }, how.waitMs ?? 0);
        return out.queued ? { runId: out.runId!, queued: true, request: out.request } : { runId: out.verdict.runId! };
      }
      return { runId: (await opts.client.retry(runId, how.runId !== undefined ? { runId: how.runId } : {})).runId };
    },
  };
}
