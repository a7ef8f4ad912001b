/**
 * How a worker judges another worker's claim in the attempt ledger (src/cluster/worker/claim-watch.ts):
 * by revisions it sees move, with no clock but its own waits.
 */
import { describe, expect, it } from 'vitest';
import { watchClaim, type ClaimWatch } from '../../src/cluster/worker/claim-watch.js';
import type { AttemptRecord, ClaimEntry } from '../../src/cluster/transport/attempts.js';

const by = (more: Partial<AttemptRecord> = {}): AttemptRecord => ({
  worker: 'w1',
  startedAt: '2026-11-23T00:00:00.000Z',
  every: 500,
  ...more,
});

/** A watch over a scripted sequence of reads (the last one repeats); counts reads, holds and sleeps. */
function scripted(reads: (ClaimEntry | null | Error)[], first = { by: by(), revision: 1 }, stopAfter = Infinity) {
  const seen = { reads: 0, holds: 0, slept: 0, alive: 0 };
  const w: ClaimWatch = {
    first,
    holdEveryMs: 500,
    read: async () => {
      const r = reads[Math.min(seen.reads++, reads.length - 1)]!;
      if (r instanceof Error) throw r;
      return r;
    },
    hold: () => {
      seen.holds++;
    },
    stopped: () => seen.slept > stopAfter,
    alive: () => {
      seen.alive++;
    },
    sleep: async (ms) => {
      seen.slept += ms;
    },
  };
  return { w, seen };
}

describe('a claim another worker holds', () => {
  it("with no refresh period (an older worker's, or a hand-written one) says nothing of liveness: stale at once", async () => {
    const { w, seen } = scripted([], { by: by({ every: undefined }), revision: 1 });
    expect(await watchClaim(w)).toEqual({ kind: 'stale', by: by({ every: undefined }) });
    expect(seen.reads).toBe(0);
  });

  it('never rewritten is stale after three periods, the deliveries held meanwhile', async () => {
    const { w, seen } = scripted([{ by: by(), revision: 1 }]);
    expect((await watchClaim(w)).kind).toBe('stale');
    expect(seen.slept).toBe(1500);
    expect(seen.holds).toBe(3);
    expect(seen.alive).toBe(0);
  });

  it('rewritten is alive: the wait goes on while the revision moves, and ends three quiet periods after the last write', async () => {
    const reads = [2, 3, 4, 5, 6].map((revision) => ({ by: by(), revision }));
    const { w, seen } = scripted([...reads, { by: by(), revision: 6 }]);
    expect((await watchClaim(w)).kind).toBe('stale');
    expect(seen.alive).toBe(1);
    expect(seen.slept).toBe(5 * 500 + 1500);
  });

  it('marked finished (or aborted) ends the wait with what the ledger says; gone is stale', async () => {
    const done = by({ finished: 'task.completed' });
    expect(
      await watchClaim(
        scripted([
          { by: by(), revision: 2 },
          { by: done, revision: 3 },
        ]).w,
      ),
    ).toEqual({ kind: 'finished', by: done });
    expect((await watchClaim(scripted([null]).w)).kind).toBe('stale');
  });

  it('unreadable (a leader election) is neither: it waits twice as long before calling it stale; this worker stopping ends it unreported', async () => {
    const { w, seen } = scripted([new Error('timeout')]);
    expect((await watchClaim(w)).kind).toBe('stale');
    expect(seen.slept).toBe(3000);
    expect(
      (
        await watchClaim(
          scripted(
            [
              { by: by(), revision: 2 },
              { by: by(), revision: 3 },
            ],
            undefined,
            600,
          ).w,
        )
      ).kind,
    ).toBe('stopped');
  });

  it('states its period within bounds: a claim saying every hour is waited on for three minutes at most', async () => {
    const { w, seen } = scripted([{ by: by({ every: 3_600_000 }), revision: 1 }], {
      by: by({ every: 3_600_000 }),
      revision: 1,
    });
    expect((await watchClaim({ ...w, holdEveryMs: 60_000 })).kind).toBe('stale');
    expect(seen.slept).toBe(180_000);
  });
});
