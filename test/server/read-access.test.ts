/** The cached "may read runs" answer: asked once, asked again once stale (a reloaded nats.conf), a failed probe not kept. */
import { describe, expect, it } from 'vitest';
import { cachedReadAccess, READ_RECHECK_MS, readRefusal } from '../../src/server/read-access.js';

describe('cachedReadAccess', () => {
  it('answers from the last probe for READ_RECHECK_MS, then asks NATS again; a probe that failed is asked again at once', async () => {
    let t = 0;
    const answers: Array<boolean | Error> = [true, false, new Error('NATS down'), true];
    let asked = 0;
    const mayRead = cachedReadAccess(
      async () => {
        const a = answers[asked++]!;
        if (a instanceof Error) throw a;
        return a;
      },
      () => t,
    );
    expect(await Promise.all([mayRead(), mayRead()])).toEqual([true, true]);
    expect(asked).toBe(1); // one probe in flight serves both
    t += READ_RECHECK_MS - 1;
    expect(await mayRead()).toBe(true);
    t += 1;
    expect(await mayRead()).toBe(false); // revoked: the next read after the window sees it
    t += READ_RECHECK_MS;
    await expect(mayRead()).rejects.toThrow('NATS down');
    expect(await mayRead()).toBe(true);
    expect(asked).toBe(4);
  });

  it('the refusal is a 403 naming the subject to add', () => {
    const err = readRefusal('worker', 'LF_EVENTS');
    expect(err).toMatchObject({
      status: 403,
      code: 'LF_FORBIDDEN',
      meta: { subject: '$JS.API.STREAM.MSG.GET.LF_EVENTS' },
    });
    expect(err.message).toMatch(
      /^NATS user worker is not allowed to read runs: .*"\$JS\.API\.STREAM\.MSG\.GET\.LF_EVENTS"/,
    );
  });
});
