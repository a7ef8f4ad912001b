/**
 * Settled run records kept on disk instead of in the heap. A dashboard over 100,000 settled runs keeps of each only
 * what a page is sorted, filtered and linked by (record-set.ts `SlimRecord`) and reads the whole record back from here
 * when a page shows it: its memory no longer grows by a whole record a settled run (about 1 KB), only by its slim row.
 *
 * Two kinds of file hold the texts:
 * - the index cache the records were loaded from (cache-lines.ts), held open: a later cache renamed over it leaves this
 *   process's copy readable, and nothing ever writes into a cache file once it is renamed into place;
 * - a private spill file for records learned since, unlinked as soon as it is opened (it goes with the process,
 *   whatever way the process ends).
 * A file is closed when no record refers to it any more; the spill is emptied.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from './record.js';
import { RunRecordSchema } from './record-schema.js';
import { revealRecord, sealRecord, type IndexSealer } from './record-values.js';

/** An open file holding record texts, and how many kept records refer to it (fd -1: not open yet). */
export interface ColdFile {
  fd: number;
  live: number;
  readonly spill: boolean;
}
/** Where one record's JSON text lies: its file, first byte and length in bytes. */
export interface ColdRef {
  file: ColdFile;
  at: number;
  len: number;
}

/** What a RecordSet needs of a cold store (record-set.ts holds no I/O of its own). */
export interface ColdKeeper {
  /** Writes a settled record's text out; null when it cannot (the record is then kept whole in memory). */
  keep(r: RunRecord): ColdRef | null;
  /** The record a ref points to, checked as the cache's records are. */
  load(ref: ColdRef): RunRecord;
  /** The record's output text only (an `outputContains` filter reads every record: parsed, not checked). */
  outputText(ref: ColdRef): string | null;
  /** The ref is no longer used: its file is closed (or the spill emptied) when nothing else refers to it. */
  release(ref: ColdRef): void;
}

export class ColdRecords implements ColdKeeper {
  private spillFile: ColdFile | null = null;
  private spillEnd = 0;
  /** The spill could not be made or written (a read-only store, a full disk): records are kept whole from then on. */
  private spillFailed = false;
  private readonly files = new Set<ColdFile>();
  /** Under encryption at rest: records written sealed, read back opened (record-values.ts). */
  sealer: IndexSealer | null = null;

  constructor(
    private readonly dir: string,
    private readonly onSpillFailed: (err: unknown) => void = () => undefined,
  ) {}

  /** A file of record texts the caller is opening (a cache being read): refs may be made before its descriptor is known. */
  adopt(): ColdFile {
    const file: ColdFile = { fd: -1, live: 0, spill: false };
    this.files.add(file);
    return file;
  }

  /** The adopted file's descriptor, once open; closed at once when nothing refers to it. */
  opened(file: ColdFile, fd: number): void {
    file.fd = fd;
    this.settle(file);
  }

  /** An adopted file let go: closed. */
  unadopt(file: ColdFile): void {
    this.files.delete(file);
    if (file.fd >= 0) closeSync(file.fd);
    file.fd = -1;
  }

  /** Closes an adopted file nothing refers to (a cache with no settled run, or one every ref moved out of). */
  settle(file: ColdFile): void {
    if (file.live === 0 && !file.spill && file.fd >= 0) this.unadopt(file);
  }

  /** A ref into an adopted file. */
  ref(file: ColdFile, at: number, len: number): ColdRef {
    file.live++;
    return { file, at, len };
  }

  keep(r: RunRecord): ColdRef | null {
    const spill = this.spill();
    if (!spill) return null;
    const s = this.sealer;
    const bytes = Buffer.from(JSON.stringify(s?.key ? sealRecord(s, r) : r), 'utf8');
    const at = this.spillEnd;
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(spill.fd, bytes, done, bytes.length - done, at + done);
    } catch (err) {
      this.failSpill(err);
      return null;
    }
    this.spillEnd += bytes.length;
    return this.ref(spill, at, bytes.length);
  }

  /** The record's JSON text as kept (a new cache is written from it without parsing it). */
  text(ref: ColdRef): string {
    const buf = Buffer.allocUnsafe(ref.len);
    let done = 0;
    while (done < ref.len) {
      const n = readSync(ref.file.fd, buf, done, ref.len - done, ref.at + done);
      if (n === 0) throw new Error(`run index: a kept record ends early (byte ${ref.at}, ${ref.len} bytes)`);
      done += n;
    }
    return buf.toString('utf8');
  }

  load(ref: ColdRef): RunRecord {
    const r = RunRecordSchema.parse(JSON.parse(this.text(ref))) as RunRecord;
    return this.sealer ? (revealRecord(this.sealer, r) ?? r) : r;
  }

  outputText(ref: ColdRef): string | null {
    const r = JSON.parse(this.text(ref)) as { runId: string; outputText?: string | null };
    const text = r.outputText ?? null;
    return text !== null && this.sealer ? this.sealer.openText(r.runId, 'outputText', text) : text;
  }

  release(ref: ColdRef): void {
    const f = ref.file;
    if (--f.live > 0) return;
    if (!f.spill) {
      this.settle(f);
      return;
    }
    // Nothing refers to the spill: it starts again empty (its space given back).
    try {
      ftruncateSync(f.fd, 0);
    } catch {
      // A spill that cannot be cut keeps its bytes: later texts are written over them from the start all the same.
    }
    this.spillEnd = 0;
  }

  close(): void {
    for (const f of this.files) if (f.fd >= 0) closeSync(f.fd);
    this.files.clear();
    this.spillFile = null;
    this.spillEnd = 0;
  }

  private spill(): ColdFile | null {
    if (this.spillFailed) return null;
    if (this.spillFile) return this.spillFile;
    try {
      mkdirSync(this.dir, { recursive: true });
      const path = join(this.dir, `.records-${process.pid}-${Math.random().toString(36).slice(2)}.spill`);
      const fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path); // private to this process, and gone with it
      this.spillFile = { fd, live: 0, spill: true };
      this.files.add(this.spillFile);
    } catch (err) {
      this.failSpill(err);
    }
    return this.spillFile;
  }

  private failSpill(err: unknown): void {
    if (!this.spillFailed) this.onSpillFailed(err);
    this.spillFailed = true;
  }
}
