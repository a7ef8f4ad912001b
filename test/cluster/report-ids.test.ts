/**
 * Report message ids give nothing away to a reader of the attempt ledger
 * (a worker read every queue's ledger keys with a wildcard direct
 * get, and could then write another queue's report id first, so the real
 * report was dropped as a duplicate). The id holds a digest of the attempt's
 * token of its own derivation, which no ledger key contains.
 */
import { describe, expect, it } from 'vitest';
import { AttemptLedger } from '../../src/cluster/transport/attempts.js';
import { AttemptTokens } from '../../src/cluster/transport/attempt-tokens.js';
import { reportMessageId } from '../../src/cluster/worker/report-outcome.js';

describe('report message ids', () => {
  const tokens = AttemptTokens.fromSecret(Buffer.alloc(32, 7));
  const task = (runId: string, attempt = 1, restart = 0) => ({
    runId,
    taskId: 'charge',
    attempt,
    restart,
    token: tokens.tokenFor(runId, 'charge', attempt),
  });

  it('hold no part of the ledger key a reader of the ledger sees, and are one per attempt (result) and per run of it (lost)', () => {
    for (const runId of ['ev-predictable-1', 'order-7']) {
      const t = task(runId);
      const keyDigest = AttemptLedger.key('default', runId, 'charge', 1, 0, t.token).split('.').at(-1)!;
      const result = reportMessageId(t, 'task.completed');
      expect(result.startsWith(`${runId}/charge/1/`)).toBe(true);
      expect(result).not.toContain(keyDigest);
      expect(reportMessageId(t, 'task.failed')).toBe(result);
      expect(reportMessageId({ ...t, restart: 2 }, 'task.lost')).toBe(result.replace(/\/result$/, '/lost-2'));
      // Another attempt, another token: another id.
      expect(reportMessageId(task(runId, 2), 'task.completed')).not.toBe(result);
    }
  });
});
