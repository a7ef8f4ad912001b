/**
 * The file archive's index shards (src/store/archive/shards.ts): finding one run parses only the lines that name it,
 * and answers as a parse of the whole shard would: the run's last line counts (a restore, an archive again), a run
 * whose id another's begins with is not mistaken for it, a torn last line is not read.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ArchiveEntry, ArchiveShards, shardOf } from '../../src/store/archive/shards.js';
import { tempDir } from '../helpers/cli.js';

const entry = (runId: string, move: string): ArchiveEntry => ({
  runId,
  workflowId: 'invoice',
  version: 1,
  status: 'COMPLETED',
  startedAt: '2026-01-01T00:00:00.000Z',
  completedAt: '2026-01-01T00:00:01.000Z',
  lastSeq: 3,
  period: '2026-01',
  archivedAt: '2026-02-01T00:00:00.000Z',
  move,
  member: { at: 0, length: 10 },
  bytes: { from: 0, to: 10 },
});

describe('the archive index shards', () => {
  it("finds a run by its last line, never by another run's whose id begins with its own", async () => {
    const shards = new ArchiveShards(join(tempDir('lf-shards-'), 'index'));
    // Two ids in one shard, one the other's prefix.
    const short = 'run-1';
    let long = `${short}0`;
    for (let i = 0; shardOf(long) !== shardOf(short); i++) long = `${short}${i}`;
    await shards.add([entry(short, 'm1'), entry(long, 'm1')]);
    expect(await shards.find(short)).toMatchObject({ runId: short, move: 'm1' });
    await shards.add([shards.restored(short, '2026-03-01T00:00:00.000Z')]);
    expect(await shards.find(short)).toBeNull();
    expect(await shards.find(long)).toMatchObject({ runId: long, move: 'm1' });
    await shards.add([entry(short, 'm2')]);
    expect(await shards.find(short)).toMatchObject({ runId: short, move: 'm2' });
    expect(await shards.find('run-2')).toBeNull();

    // A killed writer's torn line is not read, and the next writer cuts it.
    appendFileSync(join(shards.dir, `${shardOf(short)}.jsonl`), `{"runId":"${short}","restored":"2026-0`);
    expect(await shards.find(short)).toMatchObject({ move: 'm2' });
    await shards.add([shards.restored(long, '2026-03-02T00:00:00.000Z')]);
    expect(await shards.find(short)).toMatchObject({ move: 'm2' });
    expect(await shards.find(long)).toBeNull();
    expect((await shards.all()).map((e) => e.runId)).toEqual([short]);
  });
});
