/**
 * The engines' timers consumer has no bound on pending acks. A timer not due yet is put back (nak with its delay) and
 * stays pending all that time; at the server's default bound (1,000 pending), a thousand armed timers (the per-attempt
 * timeouts of a MAP's items, a thousand runs' deadlines) held back every other timer: a MAP of 1,500 items whose item
 * failed once waited for its 1 s backoff behind the other items' 5 min timeouts (test/cli/map-many-items.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ensureCluster, TIMER_SERVER_MAX_DELIVER } from '../../src/cluster/transport/setup.js';
import { ENGINE_CONSUMERS, STREAMS } from '../../src/cluster/transport/subjects.js';
import { noNats, useCluster } from '../helpers/cluster.js';

describe.skipIf(noNats)('the timers consumer', () => {
  const c = useCluster();

  it('is made without a bound on pending acks, and one made with the default bound gets none', async () => {
    const jsm = await c.jsm();
    await ensureCluster(jsm);
    const info = () => jsm.consumers.info(STREAMS.timers.name, ENGINE_CONSUMERS.timers);
    expect((await info()).config.max_ack_pending).toBe(-1);
    // As ensureCluster made it before: the server's default bound.
    await jsm.consumers.delete(STREAMS.timers.name, ENGINE_CONSUMERS.timers);
    await jsm.consumers.add(STREAMS.timers.name, {
      durable_name: ENGINE_CONSUMERS.timers,
      ack_policy: 'explicit' as never,
      max_deliver: TIMER_SERVER_MAX_DELIVER,
    });
    expect((await info()).config.max_ack_pending).toBe(1_000);
    await ensureCluster(jsm);
    expect((await info()).config).toMatchObject({ max_ack_pending: -1, max_deliver: TIMER_SERVER_MAX_DELIVER });
  });
});
