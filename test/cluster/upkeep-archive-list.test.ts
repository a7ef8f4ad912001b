/**
 * The engine's `archive-list` upkeep verb (cluster/engine/upkeep-requests.ts) on its own: a reader's level judged
 * before the index is read, and an archive of more periods than one verdict names cut to the newest, said so, and
 * small enough for one NATS message.
 */
import { describe, expect, it } from 'vitest';
import { doUpkeep } from '../../src/cluster/engine/upkeep-requests.js';
import { UPKEEP_PERIODS_MAX, UpkeepVerdict } from '../../src/cluster/transport/index.js';
import type { ArchivePeriod, JetStreamEventStore } from '../../src/store/index.js';

const month = (i: number) => `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
const periods = (n: number): ArchivePeriod[] =>
  Array.from({ length: n }, (_, i) => ({
    period: month(i),
    runs: 999_999,
    bytes: 99_999_999_999,
    location: `LF_ARCHIVE/${month(i)}/`,
  }));

function engine(held: ArchivePeriod[], judged: string[]) {
  let reads = 0;
  const read = async () => {
    reads++;
    return held;
  };
  const store = { archive: () => ({ periods: read }) } as unknown as JetStreamEventStore;
  return {
    reads: () => reads,
    o: {
      store,
      judge: (sender: string, action: string) => {
        judged.push(`${sender}:${action}`);
        if (sender === 'scanner') throw new Error('refused');
      },
      now: () => 0,
      log: () => {},
    },
  };
}
const asked = (sender: string) => ({
  sender,
  request: 'req00001',
  verdictTo: 'x',
  body: { verb: 'archive-list' as const },
});

describe("the engine's archive-list verb", () => {
  it('judges a reader (L2 up) before it reads the index: a refusal reads nothing', async () => {
    const judged: string[] = [];
    const e = engine(periods(2), judged);
    await expect(doUpkeep(e.o, asked('scanner') as never)).rejects.toThrow('refused');
    expect([judged, e.reads()]).toEqual([['scanner:read'], 0]);
    expect(await doUpkeep(e.o, asked('ops-east') as never)).toEqual({ accepted: true, periods: periods(2) });
  });

  it('names the newest UPKEEP_PERIODS_MAX of a larger archive, says so, and stays one message (under 1 MB)', async () => {
    const all = periods(UPKEEP_PERIODS_MAX + 5);
    const v = await doUpkeep(engine(all, []).o, asked('ops-east') as never);
    expect(v.periodsTruncated).toBe(true);
    expect(v.periods).toEqual(all.slice(5));
    expect(UpkeepVerdict.parse(v)).toEqual(v);
    expect(new TextEncoder().encode(JSON.stringify(v)).length).toBeLessThan(1024 * 1024);
  });
});
