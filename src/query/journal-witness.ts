/**
 * The file store's journal as a witness of what a run's log held: every commit is written to the journal (and synced)
 * before it is added to its run's log, and the journal keeps its segments until the logs they name are synced. A log
 * shorter than the end of the last commit the journal holds for its run lost events after they were written (cut or
 * restored by hand): the run index may never have seen them (no `list` since), but the journal did.
 *
 * The writer adds a line to its log right after the journal's sync, and a writer killed in between leaves the line to
 * be put back by the next (the store's recovery): so before a short log is called damaged the store is asked to settle:
 * a writer lock left by a dead process is recovered, and while a live writer holds the lock the log is looked at again
 * for a while. The parsed journal is kept while its segments' names, sizes and times stay as they were. `ledgerflow
 * reindex` accepts the logs as they are: the journal's word on each log it finds short is then set aside
 * (`<store>/index/accepted-logs.json`, the end each was accepted at).
 */
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseRecords, parseSegment, type JournalRecord } from '../store/journal.js';

/** The last commit the journal holds for a run: where its line ends in the log, and its last event's seq and status. */
interface JournalMark {
  end: number;
  seq: number;
  status: string;
}
type Mark = JournalMark & { offset: number };

/**
 * What one segment holds, as read so far: its records only grow (a failed sync cuts back only what was never
 * acknowledged, and a segment is dropped whole), so a changed one is read from where its last read ended. Its size may
 * stay while they grow (the writer writes zeros ahead of them, journal.ts): its time says it changed.
 */
interface SegmentMarks {
  ino: number;
  size: number;
  mtimeNs: bigint;
  /** Where its whole records end: the next read starts there. */
  end: number;
  marks: Map<string, Mark>;
  /** `<runId> <offset>` of its V records. */
  voided: Set<string>;
  /** The last bytes before `end` as read: other bytes there mean it was cut back and written again (read whole). */
  tail: Buffer;
}

const TAIL = 64;

const SEGMENT = /^\d{12}\.log$/;

/** How long a short log is looked at again while a live writer holds the lock (it adds the line right after its sync). */
const SETTLE_MS = 2000;
const POLL_MS = 20;

/** The store's writer, as the witness needs it (FileEventStore.settleWriter). */
type SettleWriter = () => Promise<{ writing: boolean }>;

export class JournalWitness {
  private marks = new Map<string, Mark>();
  private stamp: string | null = null;
  private reading: Promise<Map<string, Mark>> | null = null;
  private segments = new Map<string, SegmentMarks>();

  constructor(
    private readonly journalDir: string,
    private readonly runsDir: string,
    private readonly acceptedFile: string,
    private readonly settle: SettleWriter,
  ) {}

  /** The journal's mark for `runId` when its log is shorter than it (and was not accepted so), else null. */
  async shortfall(runId: string): Promise<JournalMark | null> {
    return this.shortOf(runId, (await this.read()).get(runId));
  }

  /**
   * shortfall() for many runs (`list`): the journal read once for all of them, and only the runs it holds a commit of
   * are looked at (a stat each). Asked one at a time, each run cost a read of the journal's directory: at 10,000 runs
   * listed, 10,000 readdirs and stats in a row, most of `list`'s time.
   */
  async shortfalls(runIds: Iterable<string>): Promise<Map<string, JournalMark>> {
    const marks = await this.read();
    const out = new Map<string, JournalMark>();
    if (marks.size === 0) return out;
    for (const runId of runIds) {
      const mark = marks.get(runId);
      const short = mark ? await this.shortOf(runId, mark) : null;
      if (short) out.set(runId, short);
    }
    return out;
  }

  private async shortOf(runId: string, mark: Mark | undefined): Promise<JournalMark | null> {
    if (!mark) return null;
    const size = () => this.size(runId);
    if ((await size()) >= mark.end) return null;
    if (((await this.accepted())[runId] ?? -1) >= mark.end) return null;
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const { writing } = await this.settle();
      if ((await size()) >= mark.end) return null;
      if (!writing || Date.now() >= deadline) return mark;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Sets aside the journal's word on every log it finds short (`reindex`: the logs are accepted as they are); their run ids. */
  async acceptAll(): Promise<string[]> {
    const accepted = await this.accepted();
    const now: string[] = [];
    for (const [runId, mark] of await this.read()) {
      if ((await this.size(runId)) < mark.end && (accepted[runId] ?? -1) < mark.end) {
        accepted[runId] = mark.end;
        now.push(runId);
      }
    }
    if (now.length > 0) {
      await mkdir(dirname(this.acceptedFile), { recursive: true });
      await writeFile(`${this.acceptedFile}.tmp`, JSON.stringify(accepted));
      await rename(`${this.acceptedFile}.tmp`, this.acceptedFile);
    }
    return now;
  }

  private async size(runId: string): Promise<number> {
    return (await stat(join(this.runsDir, `${runId}.jsonl`)).catch(() => null))?.size ?? 0;
  }

  private async accepted(): Promise<Record<string, number>> {
    try {
      return JSON.parse(await readFile(this.acceptedFile, 'utf8')) as Record<string, number>;
    } catch {
      return {};
    }
  }

  /**
   * The journal's marks, parsed again only when its segments changed. One read at a time: a serve that looks
   * at thousands of runs at once asks for each, and each parsing the journal for itself held thousands of
   * copies of it (a store of 3,000 settled runs took serve to 6.7 GB).
   */
  private read(): Promise<Map<string, Mark>> {
    this.reading ??= this.readNow().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  /**
   * Only what was appended since the last read is parsed (a serve picking up runs while others commit asked for each
   * pick-up, and parsing the whole journal each time, up to a 4 MB segment of JSON, was most of a pick-up's CPU).
   */
  private async readNow(): Promise<Map<string, Mark>> {
    let names: string[];
    try {
      names = (await readdir(this.journalDir)).filter((n) => SEGMENT.test(n)).sort();
    } catch {
      return new Map();
    }
    const stats = await Promise.all(
      names.map((n) => stat(join(this.journalDir, n), { bigint: true }).catch(() => null)),
    );
    const stamp = names.map((n, i) => `${n}:${stats[i]?.size}:${stats[i]?.mtimeNs}`).join('|');
    if (stamp === this.stamp) return this.marks;
    const segments = new Map<string, SegmentMarks>();
    for (const [i, name] of names.entries()) {
      const st = stats[i];
      if (!st) continue;
      const kept = this.segments.get(name);
      const ino = Number(st.ino);
      const size = Number(st.size);
      const seg =
        kept && kept.ino === ino && kept.size <= size
          ? await this.readOn(name, kept, size, st.mtimeNs)
          : await this.readWhole(name, ino, st.mtimeNs);
      if (seg) segments.set(name, seg);
    }
    this.segments = segments;
    const marks = new Map<string, Mark>();
    const voided = new Set<string>();
    for (const seg of segments.values()) {
      for (const v of seg.voided) voided.add(v);
      for (const [runId, m] of seg.marks) if ((marks.get(runId)?.end ?? -1) < m.end) marks.set(runId, m);
    }
    // A commit the store refused to add (a V record for its offset) is no part of the log.
    for (const [runId, m] of marks) if (voided.has(`${runId} ${m.offset}`)) marks.delete(runId);
    this.marks = marks;
    this.stamp = stamp;
    return marks;
  }

  private async readWhole(name: string, ino: number, mtimeNs: bigint): Promise<SegmentMarks | null> {
    const buf = await readFile(join(this.journalDir, name)).catch(() => null);
    if (!buf) return null;
    const { records, end } = parseSegment(buf);
    const tail = Buffer.from(buf.subarray(Math.max(0, end - TAIL), end));
    const seg: SegmentMarks = { ino, size: buf.length, mtimeNs, end, marks: new Map(), voided: new Set(), tail };
    addRecords(seg, records);
    return seg;
  }

  /** `seg` with the records appended to its segment since it was read (its size now `size`, its time `mtimeNs`). */
  private async readOn(name: string, seg: SegmentMarks, size: number, mtimeNs: bigint): Promise<SegmentMarks | null> {
    if (size === seg.size && mtimeNs === seg.mtimeNs) return seg;
    // A segment whose header was not whole when read (end 0) is read again from its start.
    if (seg.end === 0) return this.readWhole(name, seg.ino, mtimeNs);
    const fh = await open(join(this.journalDir, name), 'r').catch(() => null);
    if (!fh) return null;
    try {
      const from = seg.end - seg.tail.length;
      const buf = Buffer.alloc(size - from);
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      if (bytesRead < seg.tail.length || !buf.subarray(0, seg.tail.length).equals(seg.tail))
        return this.readWhole(name, seg.ino, mtimeNs);
      const { records, end } = parseRecords(buf.subarray(0, bytesRead), seg.tail.length);
      const tail = Buffer.from(buf.subarray(Math.max(0, end - TAIL), end));
      const next: SegmentMarks = { ...seg, size: from + bytesRead, mtimeNs, end: from + end, tail };
      addRecords(next, records);
      return next;
    } finally {
      await fh.close();
    }
  }
}

/** A segment's records into its marks (the last commit of each run, by where it ends) and its voids. */
function addRecords(seg: SegmentMarks, records: JournalRecord[]): void {
  for (const r of records) {
    if (r.kind === 'V') {
      seg.voided.add(`${r.runId} ${r.offset}`);
      continue;
    }
    const end = r.offset + r.bytes.length;
    if ((seg.marks.get(r.runId)?.end ?? -1) >= end) continue;
    const last = lastEvent(r.bytes);
    if (last) seg.marks.set(r.runId, { end, offset: r.offset, ...last });
  }
}

function lastEvent(line: Buffer): { seq: number; status: string } | null {
  try {
    const commit = JSON.parse(line.toString('utf8')) as { events?: { seq?: unknown; state?: { status?: unknown } }[] };
    const e = commit.events?.at(-1);
    return typeof e?.seq === 'number'
      ? { seq: e.seq, status: typeof e.state?.status === 'string' ? e.state.status : 'RUNNING' }
      : null;
  } catch {
    return null;
  }
}
