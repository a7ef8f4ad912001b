/**
 * What a person is told when the server refuses a request for want of room (docs/troubleshooting.md): a start,
 * retry, deploy or limits request that finds LF_REQUESTS at its bounds is LF_REQUESTS_FULL, naming the queue and
 * what to do; a full server is LF_NATS_STORAGE_FULL, never the client's words alone; anything else is left to the
 * caller's own refusal. The errors are the nats.js client's own, as a publish rejects with them.
 */
import { describe, expect, it } from 'vitest';
import { fullness } from '../../src/cluster/client/user-publish.js';

/** An error as @nats-io/jetstream's publish rejects with it (its class name is what tells it). */
function jsError(message: string, code?: number): Error {
  const e = new Error(message) as Error & { code?: number };
  e.name = 'JetStreamApiError';
  if (code !== undefined) e.code = code;
  return e;
}

describe('a request refused for want of room', () => {
  it('LF_REQUESTS at its bounds: LF_REQUESTS_FULL for starts, deploys and limits', () => {
    for (const subject of ['lf.starts.bob.abc', 'lf.deploys.bob.abc', 'lf.limits.bob.abc']) {
      for (const why of ['maximum bytes exceeded', 'maximum messages exceeded']) {
        const e = fullness(jsError(why, 10_077), subject);
        expect([e?.code, e?.kind]).toEqual(['LF_REQUESTS_FULL', 'unavailable']);
        expect(e?.message).toMatch(/request queue \(LF_REQUESTS\) is full.*nothing was recorded/);
      }
    }
  });

  it('a full server is LF_NATS_STORAGE_FULL whatever the subject; other failures are not this', () => {
    expect(fullness(jsError('insufficient resources', 10_023), 'lf.starts.bob.abc')?.code).toBe('LF_NATS_STORAGE_FULL');
    expect(fullness(jsError('insufficient resources', 10_023), 'lf.approvals.alice.x')?.code).toBe(
      'LF_NATS_STORAGE_FULL',
    );
    // A stream of another kind at its bounds is not the request queue.
    expect(fullness(jsError('maximum bytes exceeded', 10_077), 'lf.approvals.alice.x')).toBeNull();
    expect(fullness(jsError('wrong last sequence'), 'lf.starts.bob.abc')).toBeNull();
  });
});
