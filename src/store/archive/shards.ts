/**
 * The file archive's index: which period file holds an archived run, and where in it. 64 shard files under
 * `<dir>/archive/index/`, a run's by a hash of its id, one JSON line per move (a restore is a line too), the last
 * line of a run the one that counts. Finding one run reads one shard (1/64 of the index), never an archive file; a
 * torn last line (a killed writer) is never parsed and is cut by the next writer, which holds the archive's lock.
 */
import { mkdir, open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchivedRun } from '../port.js';
import { unlessMissing } from '../durable-fs.js';

const SHARDS = 64;

/** Where an archived run's bytes are: a gzip member of its period's file and the run's bytes inside it once unzipped. */
export interface ArchiveEntry extends ArchivedRun {
  /** The move that wrote it (the intent's id): recovery completes that move. */
  move: string;
  member: { at: number; length: number };
  bytes: { from: number; to: number };
}

/** A restore: the run left the archive (a later entry archives it again). */
interface Restored {
  runId: string;
  restored: string;
}

type Line = ArchiveEntry | Restored;

export function shardOf(runId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 0x01000193);
  return ((h >>> 0) % SHARDS).toString(16).padStart(2, '0');
}

export class ArchiveShards {
  constructor(readonly dir: string) {}

  private pathOf(shard: string): string {
    return join(this.dir, `${shard}.jsonl`);
  }

  /** The run's entry, null when it was never archived or was restored since. */
  async find(runId: string): Promise<ArchiveEntry | null> {
    const buf = await unlessMissing(readFile(this.pathOf(shardOf(runId))));
    if (!buf) return null;
    // Only the lines that name the run are parsed (a shard holds 1/64 of the index: 15,000 lines at a million runs);
    // the last one whose runId is the run's counts, as in a full parse. A torn last line (no newline) is not read.
    const text = buf.subarray(0, buf.lastIndexOf(0x0a) + 1).toString('utf8');
    const needle = `"runId":${JSON.stringify(runId)}`;
    let found: Line | null = null;
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at)) {
      const start = text.lastIndexOf('\n', at) + 1;
      const end = text.indexOf('\n', at);
      const line = JSON.parse(text.slice(start, end)) as Line;
      if (line.runId === runId) found = line;
      at = end;
    }
    return found && !('restored' in found) ? found : null;
  }

  /** Every run archived now (restored ones left out). */
  async all(): Promise<ArchiveEntry[]> {
    const out: ArchiveEntry[] = [];
    for await (const entries of this.byShard()) out.push(...entries);
    return out;
  }

  /** The runs archived now, one shard at a time (a run's lines are all in its shard): a pass holds 1/64 of the index. */
  async *byShard(): AsyncIterable<ArchiveEntry[]> {
    const names = (await unlessMissing(readdir(this.dir))) ?? [];
    for (const name of names.filter((n) => /^[0-9a-f]{2}\.jsonl$/.test(n)).sort()) {
      const runs = new Map<string, Line>();
      for (const line of await this.lines(name.slice(0, 2))) runs.set(line.runId, line);
      yield [...runs.values()].filter((l): l is ArchiveEntry => !('restored' in l));
    }
  }

  /** Each shard file's size and mtime: any line added or cut since changes it (summary.ts). */
  async stamp(): Promise<Record<string, [number, number]>> {
    const names = ((await unlessMissing(readdir(this.dir))) ?? []).filter((n) => /^[0-9a-f]{2}\.jsonl$/.test(n)).sort();
    const out: Record<string, [number, number]> = {};
    for (const name of names) {
      const s = await unlessMissing(stat(join(this.dir, name)));
      if (s) out[name.slice(0, 2)] = [s.size, s.mtimeMs];
    }
    return out;
  }

  /** Appends the lines (each to its run's shard) and syncs them: written once this resolves. */
  async add(lines: Line[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const byShard = new Map<string, string[]>();
    for (const l of lines) {
      const shard = shardOf(l.runId);
      byShard.set(shard, [...(byShard.get(shard) ?? []), JSON.stringify(l)]);
    }
    for (const [shard, texts] of byShard) {
      const fh = await open(this.pathOf(shard), 'a+');
      try {
        // A torn last line left by a killed writer is cut first, so the next line starts clean.
        const { size } = await fh.stat();
        if (size > 0) {
          const tail = Buffer.alloc(1);
          await fh.read(tail, 0, 1, size - 1);
          if (tail[0] !== 0x0a) {
            const whole = await fh.readFile();
            await fh.truncate(whole.lastIndexOf(0x0a) + 1);
          }
        }
        await fh.appendFile(`${texts.join('\n')}\n`);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
  }

  restored(runId: string, at: string): Restored {
    return { runId, restored: at };
  }

  private async lines(shard: string): Promise<Line[]> {
    const buf = await unlessMissing(readFile(this.pathOf(shard)));
    if (!buf) return [];
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) return [];
    return buf
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .filter((t) => t.trim() !== '')
      .map((t) => JSON.parse(t) as Line);
  }
}
