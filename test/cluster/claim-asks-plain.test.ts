/**
 * A worker holding a copy marked `redispatch` asks whether another worker
 * runs the attempt unclaimed (src/cluster/worker/claim-asks.ts). When the same
 * attempt reaches it unmarked meanwhile (the engines queue an attempt unmarked
 * only when no worker took its offer, so nobody runs it unclaimed), it stops
 * asking and claims at once, instead of reporting it lost for a restart after
 * three unanswered asks. Against a real nats-server, nobody answering.
 */
import { describe, expect, it } from 'vitest';
import { ClaimAsks } from '../../src/cluster/worker/claim-asks.js';
import type { AttemptLedger } from '../../src/cluster/transport/index.js';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';

describe.skipIf(noNats)(`a marked copy's asks${skipNote}`, () => {
  const c = useCluster({ server: 'shared' });
  /** A ledger with no entry for anything (no worker claimed the attempt). */
  const empty = { read: async () => null } as unknown as AttemptLedger;

  const asking = async (plainAfterRounds: number | null) => {
    const asks = new ClaimAsks({
      nc: await c.connect(),
      queue: `q${uniqueId().replace(/[^A-Za-z0-9]/g, '')}`,
      ledger: () => empty,
      worker: 'w',
      log: () => {},
    });
    let holds = 0;
    const found = await asks.find('run.task.1.digest', {
      everyMs: 100,
      hold: () => {
        holds++;
      },
      stopped: () => false,
      ...(plainAfterRounds === null ? {} : { plainCopyHeld: () => holds >= plainAfterRounds }),
    });
    return { found, holds };
  };

  it('with nobody answering and nothing else held, reports the copy lost after three asks', async () => {
    expect(await asking(null)).toEqual({ found: null, holds: 3 });
  });

  it('stops asking and says to claim once the attempt came unmarked meanwhile', async () => {
    expect(await asking(1)).toEqual({ found: 'claim', holds: 1 });
    // Unmarked before the first ask: no ask at all.
    expect(await asking(0)).toEqual({ found: 'claim', holds: 0 });
  });
});
