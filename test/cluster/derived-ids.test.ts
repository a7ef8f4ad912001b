/**
 * An event's run has a derived id (`ev-<hash>` of the event and workflow): a
 * run under it that the event did not start (planted first, a real
 * event was dropped as "already started") is not adopted by the NATS engines:
 * the event's verdict says the id is taken, the event is dead-lettered with
 * the reason, and the planted run is left as it was. Real nats-server, one engine.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { runIdForEvent } from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { waitFor } from '../helpers/wait.js';
import { triggered } from '../triggers/helpers.js';

const booking = def(triggered('nats_book_payment', 'nats_payment'));
const other = def(triggered('nats_other_flow', 'nats_unrelated'));

describe.skipIf(noNats)('derived run ids on NATS', () => {
  const c = useCluster({
    engines: 1,
    handlers: { work: async (i) => ({ booked: i.amount }) },
    deploy: [booking, other],
  });

  it('an event whose run id holds a run it did not start is refused (LF_RUN_ID_TAKEN), dead-lettered with the reason, and that run untouched', async () => {
    const eventId = `pay-${Date.now()}`;
    const runId = runIdForEvent(eventId, 'nats_book_payment');
    await new Engine({ store: c.client.store }).start(other, { amount: 1 }, { runId, source: { event: eventId } });
    const before = await c.client.store.read(runId);
    const { verdict } = await c.client.emit(
      { id: eventId, type: 'nats_payment', time: new Date().toISOString(), data: { amount: 20 } },
      { waitMs: 10_000 },
    );
    expect(verdict?.runs).toEqual([
      expect.objectContaining({
        runId,
        started: false,
        reason: expect.stringMatching(
          new RegExp(
            `^run id ${runId}, the id of event ${eventId}'s run of nats_book_payment, is taken by a run of workflow nats_other_flow`,
          ),
        ),
      }),
    ]);
    const letters = await waitFor('the event dead-lettered', async () => {
      const l = (await deadLetters(await c.jsm(), 'triggers')).filter((d) => d.runId === runId);
      return l.length > 0 ? l : undefined;
    });
    expect(String(letters[0]!.reason)).toMatch(/is taken by a run of workflow nats_other_flow/);
    expect(await c.client.store.read(runId)).toEqual(before);
  }, 30_000);
});
