/**
 * The journal as the witness of a log cut short (query/journal-witness.ts), read on as it grows: a second look parses
 * only the records appended since the first (serve asks at every pick-up), and still sees what they say.
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journalWitness } from '../../src/query/damage.js';
import { FileEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { appendCommits, asRun, COMPLETED_RUN, historyCommits } from './fixtures.js';

let store: FileEventStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** The log's length without its last line. */
const withoutLastLine = (file: string) => {
  const text = readFileSync(file, 'utf8');
  return Buffer.byteLength(text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
};

describe('the journal witness', () => {
  it('sees a commit appended after its first read, and a log cut short of it', async () => {
    const dir = join(tempDir('lf-journal-witness-'), 'store');
    store = new FileEventStore(dir);
    const commits = historyCommits(COMPLETED_RUN);
    const a = asRun(commits, 'a');
    const b = asRun(commits, 'b');
    await appendCommits(store, a);
    await appendCommits(store, b, 0, 1);
    const witness = journalWitness(store);
    expect(await witness.shortfall('a')).toBeNull();
    expect(await witness.shortfall('b')).toBeNull();
    // Read on from where the first read ended: b's later commits are seen.
    await appendCommits(store, b, 1);
    const file = join(dir, 'runs', 'b.jsonl');
    truncateSync(file, withoutLastLine(file));
    const last = b.at(-1)!.at(-1)!;
    expect(await witness.shortfall('b')).toMatchObject({ seq: last.seq, status: last.state.status });
    expect(await witness.shortfall('a')).toBeNull();
  });

  it('reads a segment whole again when it was cut back and written over since', async () => {
    const dir = join(tempDir('lf-journal-witness-'), 'store');
    store = new FileEventStore(dir);
    const commits = historyCommits(COMPLETED_RUN);
    await appendCommits(store, asRun(commits, 'a'));
    const witness = journalWitness(store);
    expect(await witness.shortfall('a')).toBeNull();
    await store.close();
    store = undefined;
    // The segment's tail as read replaced by other bytes of a greater length (what a cut-back and new writes leave):
    // a's records there are gone, so a log cut short of them is not called damaged.
    const segment = join(dir, 'journal', '000000000001.log');
    const bytes = readFileSync(segment);
    const header = bytes.subarray(0, bytes.indexOf(0x0a) + 1);
    writeFileSync(segment, Buffer.concat([header, Buffer.alloc(bytes.length, 0x20)]));
    const file = join(dir, 'runs', 'a.jsonl');
    truncateSync(file, withoutLastLine(file));
    expect(await witness.shortfall('a')).toBeNull();
  });
});
