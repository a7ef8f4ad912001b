/**
 * The file store's archive (docs/retention.md): `<dir>/archive/<period>.jsonl.gz`, one file per month a run settled
 * in, each a concatenation of gzip members (one per move: a valid .gz as a whole), holding the runs' log files byte
 * for byte (encrypted lines stay as they were); where each run is, in the index shards (shards.ts).
 *
 * A move, under the store's `archive` lock and with the writer lock held (no append meanwhile, the journal emptied
 * first so no recovery puts a removed log back): an intent naming the runs and where each period file ended is
 * synced; the member is written at that end and synced; the index lines are synced; then the live logs are removed
 * and the intent. A process killed anywhere leaves an intent, and recovery (first thing of every call) finishes what
 * the index recorded (the live log removed, unless it changed since: then the live log wins and the entry is
 * withdrawn) and rolls back what it did not (the period file cut back). A restore writes the log under a temporary
 * name, renames it into place (atomic), then records the restore. So a run is live or archived, never both after
 * recovery, never neither. `archive list` reads the counts from `summary.json`, which each completed move brings up to
 * date and which is counted again from the shards whenever a write it did not account for changed them (summary.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RunNotArchivedError, StoreError } from '../../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope } from '../../events/index.js';
import { statOrNull, syncDir, unlessMissing, writeSynced } from '../durable-fs.js';
import { commitsOf, readAt } from '../jsonl.js';
import type { ArchivedRun, ArchiveOptions, ArchivePeriod, RunArchive, RunSummary } from '../port.js';
import { ArchiveShards, type ArchiveEntry } from './shards.js';
import { archivedOf, recordOf } from './record.js';
import { adjusted, ArchiveSummary, type PeriodCounts } from './summary.js';
import { parseRestores, withRestore, type Restores } from './restores.js';

/** What the archive needs of its file store. */
export interface FileArchiveHost {
  dir: string;
  runsDir: string;
  fileOf(runId: string): string;
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the writer lock, no append meanwhile, every line of the journal in its log. */
  quiesced<T>(fn: () => Promise<T>): Promise<T>;
  /** The store's cached view of the run is stale (its log was removed or made). */
  forget(runId: string): void;
}

type Intent =
  | { op: 'archive'; move: string; runs: string[]; periods: Record<string, number> }
  | { op: 'restore'; move: string; runId: string };

const PERIOD = /^\d{4}-\d{2}$/;

export class FileRunArchive implements RunArchive {
  readonly dir: string;
  private readonly shards: ArchiveShards;
  private readonly intentPath: string;
  private readonly summary: ArchiveSummary;

  constructor(private readonly host: FileArchiveHost) {
    this.dir = join(host.dir, 'archive');
    this.shards = new ArchiveShards(join(this.dir, 'index'));
    this.intentPath = join(this.dir, 'intent.json');
    this.summary = new ArchiveSummary(this.dir, this.shards);
  }

  private get restoresPath(): string {
    return join(this.dir, 'restored.json');
  }

  async restores(): Promise<Restores> {
    return parseRestores(await unlessMissing(readFile(this.restoresPath, 'utf8')), this.restoresPath);
  }

  archive(runs: RunSummary[], now: Date, opts: ArchiveOptions = {}): Promise<ArchivedRun[]> {
    const settled = runs.filter((r) => r.completedAt !== null && SETTLED_STATUSES.includes(r.status));
    return this.host.exclusive('archive', async () => {
      await this.recoverHeld();
      if (settled.length === 0) return [];
      const counts = await this.summary.read();
      const moved = await this.host.quiesced(() => this.move(settled, now, opts));
      await this.counted(counts, moved, 1);
      return moved;
    });
  }

  async find(runId: string): Promise<ArchivedRun | null> {
    const e = await this.shards.find(runId);
    return e ? recordOf(e) : null;
  }

  async read(runId: string): Promise<EventEnvelope[] | null> {
    const e = await this.shards.find(runId);
    if (!e) return null;
    const bytes = await this.bytesOf(e);
    return commitsOf(bytes, `${this.periodFile(e.period)} (run ${runId})`, runId).flatMap((c) => c.events);
  }

  async attachedDigests(): Promise<Set<string>> {
    await this.recover();
    const out = new Set<string>();
    for (const e of await this.shards.all()) for (const a of e.attachments ?? []) out.add(a.digest);
    return out;
  }

  /** From the summary (summary.ts) while it is current; counted again from the index shards when it is not. */
  async periods(): Promise<ArchivePeriod[]> {
    const current = await this.host.exclusive('archive', async () => {
      await this.recoverHeld();
      return (await statOrNull(this.dir)) ? this.summary.read() : new Map<string, number>();
    });
    const counts = current ?? (await this.summary.rebuild((fn) => this.host.exclusive('archive', fn)));
    const out: ArchivePeriod[] = [];
    for (const [period, runs] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
      const location = this.periodFile(period);
      out.push({ period, runs, bytes: (await statOrNull(location))?.size ?? 0, location });
    }
    return out;
  }

  restore(runId: string): Promise<ArchivedRun> {
    return this.host.exclusive('archive', async () => {
      await this.recoverHeld();
      const e = await this.shards.find(runId);
      const live = this.host.fileOf(runId);
      if (!e) throw new RunNotArchivedError(runId, (await statOrNull(live)) !== null);
      if (await statOrNull(live)) throw new StoreError(`run ${runId} is both live and archived`, { runId, file: live });
      const counts = await this.summary.read();
      await this.writeIntent({ op: 'restore', move: randomUUID(), runId });
      await this.noteRestore(runId);
      const tmp = this.restoringPath(runId);
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(await this.bytesOf(e));
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, live);
      await syncDir(this.host.runsDir);
      this.host.forget(runId);
      await this.shards.add([this.shards.restored(runId, new Date().toISOString())]);
      await this.clearIntent();
      await this.counted(counts, [e], -1);
      return recordOf(e);
    });
  }

  recover(): Promise<void> {
    return this.host.exclusive('archive', () => this.recoverHeld());
  }

  /** Written whole under a temporary name, then renamed over the last (the archive's lock held). */
  private async noteRestore(runId: string): Promise<void> {
    const tmp = `${this.restoresPath}.tmp`;
    await writeSynced(tmp, withRestore(await this.restores(), runId, new Date()));
    await rename(tmp, this.restoresPath);
    await syncDir(this.dir);
  }

  /**
   * The summary brought up to date after a completed move: `runs` added (1) or taken away (-1) from `counts`, as read
   * before the move. A summary stale before the move (null) is left so; the next `archive list` counts again.
   */
  private async counted(counts: PeriodCounts | null, runs: { period: string }[], sign: 1 | -1): Promise<void> {
    if (counts === null || runs.length === 0) return;
    const delta = new Map<string, number>();
    for (const r of runs) delta.set(r.period, (delta.get(r.period) ?? 0) + sign);
    await this.summary.write(adjusted(counts, delta));
  }

  /** The move itself (archive's lock and the writer lock held). */
  private async move(settled: RunSummary[], now: Date, opts: ArchiveOptions): Promise<ArchivedRun[]> {
    const picked: { run: RunSummary; bytes: Buffer; period: string; attachments?: ArchivedRun['attachments'] }[] = [];
    for (const run of settled) {
      const file = this.host.fileOf(run.runId);
      const bytes = await unlessMissing(readFile(file));
      // Gone, torn, or changed since it was listed: left for a later round.
      if (!bytes || bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) continue;
      let events: EventEnvelope[];
      try {
        events = commitsOf(bytes, file, run.runId).flatMap((c) => c.events);
      } catch {
        continue; // a corrupt log stays where `list` and `status` report it
      }
      const last = events.at(-1);
      if (!last || last.seq !== run.lastSeq || !SETTLED_STATUSES.includes(last.state.status)) continue;
      const attachments = await opts.attachments?.(run.runId, events);
      if (attachments === null) continue;
      picked.push({ run, bytes, period: run.completedAt!.slice(0, 7), ...(attachments ? { attachments } : {}) });
    }
    if (picked.length === 0) return [];
    await mkdir(this.dir, { recursive: true });
    const move = randomUUID();
    const byPeriod = new Map<string, typeof picked>();
    for (const p of picked) byPeriod.set(p.period, [...(byPeriod.get(p.period) ?? []), p]);
    const periods: Record<string, number> = {};
    for (const period of byPeriod.keys()) periods[period] = (await statOrNull(this.periodFile(period)))?.size ?? 0;
    await this.writeIntent({ op: 'archive', move, runs: picked.map((p) => p.run.runId), periods });
    const entries: ArchiveEntry[] = [];
    const archivedAt = now.toISOString();
    for (const [period, group] of byPeriod) {
      const at = periods[period]!;
      const member = gzipSync(Buffer.concat(group.map((g) => g.bytes)));
      await this.writeMember(period, at, member);
      let from = 0;
      for (const g of group) {
        const to = from + g.bytes.length;
        entries.push({
          ...archivedOf(g.run, period, archivedAt),
          ...(g.attachments ? { attachments: g.attachments } : {}),
          move,
          member: { at, length: member.length },
          bytes: { from, to },
        });
        from = to;
      }
    }
    await this.shards.add(entries);
    for (const p of picked) {
      await unlink(this.host.fileOf(p.run.runId));
      this.host.forget(p.run.runId);
    }
    await syncDir(this.host.runsDir);
    await this.clearIntent();
    return entries.map(recordOf);
  }

  /** Finishes or rolls back what a killed process left (the archive's lock held). */
  private async recoverHeld(): Promise<void> {
    const text = await unlessMissing(readFile(this.intentPath, 'utf8'));
    if (text === null) return;
    let intent: Intent;
    try {
      intent = JSON.parse(text) as Intent;
    } catch {
      // A torn intent: nothing after it was written (it is synced before anything else).
      await this.clearIntent();
      return;
    }
    if (intent.op === 'restore') {
      if ((await statOrNull(this.host.fileOf(intent.runId))) && (await this.shards.find(intent.runId)))
        await this.shards.add([this.shards.restored(intent.runId, new Date().toISOString())]);
      await unlink(this.restoringPath(intent.runId)).catch(() => undefined);
    } else await this.recoverMove(intent);
    await this.clearIntent();
  }

  private async recoverMove(intent: Extract<Intent, { op: 'archive' }>): Promise<void> {
    const recorded: ArchiveEntry[] = [];
    for (const runId of intent.runs) {
      const e = await this.shards.find(runId);
      if (e?.move === intent.move) recorded.push(e);
    }
    if (recorded.length === 0) {
      // Nothing recorded: the member (whole or torn) is cut off again.
      for (const [period, at] of Object.entries(intent.periods))
        if (PERIOD.test(period)) await unlessMissing(truncate(this.periodFile(period), at));
      return;
    }
    await this.host.quiesced(async () => {
      const withdrawn = [];
      for (const e of recorded) {
        const live = await statOrNull(this.host.fileOf(e.runId));
        if (!live) continue;
        if (live.size === e.bytes.to - e.bytes.from) {
          await unlink(this.host.fileOf(e.runId));
          this.host.forget(e.runId);
        } else withdrawn.push(this.shards.restored(e.runId, new Date().toISOString())); // it changed: live wins
      }
      if (withdrawn.length > 0) await this.shards.add(withdrawn);
      await syncDir(this.host.runsDir);
    });
  }

  private async writeMember(period: string, at: number, member: Buffer): Promise<void> {
    const path = this.periodFile(period);
    const made = !(await statOrNull(path));
    const fh = await open(path, made ? 'w+' : 'r+');
    try {
      await fh.truncate(at);
      for (let off = 0; off < member.length; )
        off += (await fh.write(member, off, member.length - off, at + off)).bytesWritten;
      await fh.datasync();
    } finally {
      await fh.close();
    }
    if (made) await syncDir(this.dir);
  }

  private async bytesOf(e: ArchiveEntry): Promise<Buffer> {
    const fh = await open(this.periodFile(e.period), 'r');
    try {
      const member = await readAt(fh, e.member.at, e.member.length);
      return gunzipSync(member).subarray(e.bytes.from, e.bytes.to);
    } finally {
      await fh.close();
    }
  }

  private async writeIntent(intent: Intent): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeSynced(this.intentPath, JSON.stringify(intent));
    await syncDir(this.dir);
  }

  private async clearIntent(): Promise<void> {
    await unlessMissing(unlink(this.intentPath));
    await syncDir(this.dir);
  }

  private periodFile(period: string): string {
    if (!PERIOD.test(period)) throw new StoreError(`not an archive period: ${JSON.stringify(period)}`, { period });
    return join(this.dir, `${period}.jsonl.gz`);
  }

  private restoringPath(runId: string): string {
    return join(this.host.runsDir, `.${runId}.restoring`);
  }
}
