/**
 * The JetStream store's archive (docs/retention.md): an Object Store bucket LF_ARCHIVE, one object per move named
 * `<period>/<move>.jsonl.gz` (the month the runs settled in), holding each run's messages as stored (one body a line:
 * encrypted payloads stay as they were); where each run is, in KV LF_ARCHIVE_INDEX: `run.<runId>` its entry,
 * `in.<period>.<runId>` a marker per archived run, `intent` the move under way, `summary` the counts `archive list`
 * shows, kept by each move and counted again from the markers when stale (archive-summary.ts).
 *
 * A move, under the store's `archive` lock (EventStore.exclusive: one process at a time, whichever engine): the intent
 * is put; the object is written; the entries are put; then each run's subject is purged, only while it still ends
 * where the move read it (compare-purge.ts: a marker rolled up over it, then deleted), and its record leaves the run
 * index (KV LF_RUNS_INDEX); the intent is deleted. Recovery (first thing of every call) finishes a move whose entries
 * were put (a run that gained messages since is left live and its entry withdrawn; a marker left is deleted) and
 * deletes the object of one whose were not. A restore publishes the run's messages again on its subject (the first
 * expecting an empty subject), then deletes the entry; killed half way, recovery purges what it published: archived.
 */
import { archivedOf, recordOf } from '../archive/record.js';
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { RunNotArchivedError, StoreError } from '../../errors/index.js';
import { SETTLED_STATUSES, type Commit, type EventEnvelope } from '../../events/index.js';
import type { ArchivedRun, ArchiveOptions, ArchivePeriod, RunArchive, RunSummary } from '../port.js';
import { noteRestore, readRestores } from './archive-restores.js';
import { addTotals, countTotals, lastWrite, readTotals, writeTotals, type PeriodTotals } from './archive-summary.js';
import { archivedBodies, commitHeaderFields, decodeNextCommit, runSubject } from './codec.js';
import type { JetStreamLink } from './connection.js';
import { kvKeys } from './kv-keys.js';
import { kvRetrying } from './kv-retry.js';
import { Kvm, Objm, StorageType, jetstream } from './nats-lib.js';
import type { ResolvedOptions } from './options.js';
import { getMessage, runMessages } from './run-messages.js';
import { RunPurger } from './compare-purge.js';

export const ARCHIVE_BUCKET = 'LF_ARCHIVE';
export const ARCHIVE_INDEX_BUCKET = 'LF_ARCHIVE_INDEX';
/** The run index's bucket (query/jetstream-bucket.ts): an archived run's record leaves it. */
const RUNS_INDEX_BUCKET = 'LF_RUNS_INDEX';

interface Entry extends ArchivedRun {
  move: string;
  object: string;
  bytes: { from: number; to: number };
}

type Intent =
  | { op: 'archive'; move: string; object: string; runs: string[] }
  | { op: 'restore'; move: string; runId: string; subject: string; period?: string };

export interface JetStreamArchiveHost {
  o: ResolvedOptions;
  link: JetStreamLink;
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;
  forget(runId: string): void;
  /** The run's last sequence on the stream (0: not live). */
  lastSeq(runId: string): Promise<number>;
}

export class JetStreamRunArchive implements RunArchive {
  private buckets: Promise<{ kv: KV; os: ObjectStore; js: JetStreamClient }> | undefined;
  private readonly purger: RunPurger;

  constructor(private readonly host: JetStreamArchiveHost) {
    this.purger = new RunPurger(host.link, host.o);
  }

  archive(runs: RunSummary[], now: Date, opts: ArchiveOptions = {}): Promise<ArchivedRun[]> {
    const settled = runs.filter((r) => r.completedAt !== null && SETTLED_STATUSES.includes(r.status));
    return this.host.exclusive('archive', async () => {
      await this.recoverHeld();
      if (settled.length === 0) return [];
      const before = await readTotals((await this.open()).kv);
      const delta: PeriodTotals = new Map();
      const moved = await this.move(settled, now, opts, delta);
      await this.counted(before, delta);
      return moved;
    });
  }

  async find(runId: string): Promise<ArchivedRun | null> {
    const e = await this.entry(runId);
    return e ? recordOf(e) : null;
  }

  async read(runId: string): Promise<EventEnvelope[] | null> {
    const e = await this.entry(runId);
    if (!e) return null;
    const events: EventEnvelope[] = [];
    let prev: number | null = null;
    for (const [i, body] of (await this.bodiesOf(e)).entries()) {
      const commit = decodeNextCommit(
        body,
        runId,
        { stream: `${ARCHIVE_BUCKET} ${e.object}`, seq: i + 1, subject: runId },
        prev,
      );
      if (!commit) continue;
      prev = commit.events.at(-1)!.seq;
      events.push(...commit.events);
    }
    return events;
  }

  async attachedDigests(): Promise<Set<string>> {
    await this.recover();
    const { kv, js } = await this.open();
    const out = new Set<string>();
    for (const key of await kvKeys(js, ARCHIVE_INDEX_BUCKET, 'run.>')) {
      const e = await kv.get(key);
      if (e && e.operation === 'PUT') for (const a of e.json<Entry>().attachments ?? []) out.add(a.digest);
    }
    return out;
  }

  /** From the summary (archive-summary.ts) while it is current; counted again from the keys and objects when not. */
  async periods(): Promise<ArchivePeriod[]> {
    const { kv, os, js } = await this.open();
    let totals = await this.host.exclusive('archive', async () => {
      await this.recoverHeld();
      return readTotals(kv);
    });
    if (!totals) {
      // Counted without the lock (moves need not wait on a long pass); put only if nothing was written meanwhile.
      const expected = await lastWrite(kv);
      totals = await countTotals(js, ARCHIVE_INDEX_BUCKET, os);
      await writeTotals((await this.host.link.ready()).nc, ARCHIVE_INDEX_BUCKET, totals, expected);
    }
    return [...totals]
      .filter(([, t]) => t.runs > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([period, t]) => ({ period, runs: t.runs, bytes: t.bytes, location: `${ARCHIVE_BUCKET}/${period}/` }));
  }

  restore(runId: string): Promise<ArchivedRun> {
    return this.host.exclusive('archive', async () => {
      await this.recoverHeld();
      const e = await this.entry(runId);
      if (!e) throw new RunNotArchivedError(runId, (await this.host.lastSeq(runId)) > 0);
      const { kv } = await this.open();
      const before = await readTotals(kv);
      const subject = runSubject(this.host.o.subjectPrefix, e.workflowId, runId);
      const move = randomUUID();
      await kv.put(
        'intent',
        JSON.stringify({ op: 'restore', move, runId, subject, period: e.period } satisfies Intent),
      );
      await noteRestore(kv, ARCHIVE_INDEX_BUCKET, runId);
      const c = await this.host.link.ready();
      let last = 0;
      let prev: number | null = null;
      for (const [i, body] of (await this.bodiesOf(e)).entries()) {
        const commit: Commit = decodeNextCommit(body, runId, { stream: ARCHIVE_BUCKET, seq: i + 1, subject }, prev)!;
        const lastSeq = commit.events.at(-1)!.seq;
        prev = lastSeq;
        // The first expects an empty subject: a run live meanwhile is not written over.
        const ack = await c.pub.publish(subject, body, {
          msgID: `${runId}/restore/${move}/${i}`,
          headers: commitHeaderFields(runId, commit.events[0]!.seq, lastSeq),
          lastSubjectSequence: last,
          timeoutMs: 10_000,
        });
        last = ack.seq;
      }
      this.host.forget(runId);
      await kv.delete(`in.${e.period}.${runId}`);
      await kv.delete(`run.${runId}`);
      await kv.delete('intent');
      await this.counted(before, new Map([[e.period, { runs: -1, bytes: 0 }]]));
      return recordOf(e);
    });
  }

  recover(): Promise<void> {
    return this.host.exclusive('archive', () => this.recoverHeld());
  }

  async restores(): Promise<ReadonlyMap<string, string>> {
    return readRestores((await this.open()).kv, ARCHIVE_INDEX_BUCKET);
  }

  /** The summary brought up to date after a completed move, when it was current before it; else left to `archive list`. */
  private async counted(before: PeriodTotals | null, delta: PeriodTotals): Promise<void> {
    if (!before || delta.size === 0) return;
    const { kv } = await this.open();
    const nc = (await this.host.link.ready()).nc;
    await writeTotals(nc, ARCHIVE_INDEX_BUCKET, addTotals(before, delta), await lastWrite(kv));
  }

  /** `delta` gets each period's runs moved and bytes written. */
  private async move(
    settled: RunSummary[],
    now: Date,
    opts: ArchiveOptions,
    delta: PeriodTotals,
  ): Promise<ArchivedRun[]> {
    const c = await this.host.link.ready();
    const picked: {
      run: RunSummary;
      bodies: Uint8Array[];
      subject: string;
      lastStreamSeq: number;
      seqs: number[]; // its messages' stream sequences as read: what its purge deletes (compare-purge.ts)
      attachments?: ArchivedRun['attachments'];
    }[] = [];
    for (const run of settled) {
      const subject = runSubject(this.host.o.subjectPrefix, run.workflowId, run.runId);
      const bodies: Uint8Array[] = [];
      let prev: number | null = null;
      let lastStreamSeq = 0;
      let last: EventEnvelope | undefined;
      const events: EventEnvelope[] = [];
      const seqs: number[] = [];
      try {
        for await (const m of runMessages(
          this.host.link,
          this.host.o,
          c,
          run.runId,
          subject,
          1,
          this.host.link.deadline(),
        )) {
          lastStreamSeq = m.seq;
          seqs.push(m.seq);
          const commit = decodeNextCommit(m.data, run.runId, { stream: this.host.o.stream, seq: m.seq, subject }, prev);
          if (!commit) continue; // lost a race (codec.ts): not part of the run
          prev = commit.events.at(-1)!.seq;
          last = commit.events.at(-1);
          events.push(...commit.events);
          bodies.push(m.data);
        }
      } catch {
        continue; // a corrupt log (or a read that failed) stays live: reported by `list`, tried again next round
      }
      // Gone, or changed since it was listed: left for a later round.
      if (!last || last.seq !== run.lastSeq || !SETTLED_STATUSES.includes(last.state.status)) continue;
      const attachments = await opts.attachments?.(run.runId, events);
      if (attachments === null) continue;
      picked.push({ run, bodies, subject, lastStreamSeq, seqs, ...(attachments ? { attachments } : {}) });
    }
    if (picked.length === 0) return [];
    await this.purger.ready();
    const { kv, os } = await this.open();
    const move = randomUUID();
    const period = (r: RunSummary) => r.completedAt!.slice(0, 7);
    const out: ArchivedRun[] = [];
    // One object per period of this move.
    const byPeriod = new Map<string, typeof picked>();
    for (const p of picked) byPeriod.set(period(p.run), [...(byPeriod.get(period(p.run)) ?? []), p]);
    for (const [p, group] of byPeriod) {
      const object = `${p}/${move}.jsonl.gz`;
      const intent: Intent = { op: 'archive', move, object, runs: group.map((g) => g.run.runId) };
      await kv.put('intent', JSON.stringify(intent));
      const parts: Buffer[] = [];
      const entries: Entry[] = [];
      let from = 0;
      for (const g of group) {
        const bytes = Buffer.concat(g.bodies.flatMap((b) => [Buffer.from(b), Buffer.from([0x0a])]));
        parts.push(bytes);
        entries.push({
          ...archivedOf(g.run, p, now.toISOString()),
          ...(g.attachments ? { attachments: g.attachments } : {}),
          move,
          object,
          bytes: { from, to: from + bytes.length },
        });
        from += bytes.length;
      }
      const info = await os.putBlob(
        { name: object, metadata: { runs: String(group.length) } },
        gzipSync(Buffer.concat(parts)),
      );
      for (const e of entries) {
        await kv.put(`run.${e.runId}`, JSON.stringify(e));
        await kv.put(`in.${p}.${e.runId}`, '');
      }
      const withdrawn = await this.purge(
        move,
        group.map(({ run, bodies: _, attachments: __, ...read }) => ({ ...read, runId: run.runId, period: p })),
      );
      await kv.delete('intent');
      delta.set(p, { runs: entries.length - withdrawn.size, bytes: info.size });
      out.push(...entries.filter((e) => !withdrawn.has(e.runId)).map(recordOf));
    }
    return out;
  }

  /**
   * The runs' subjects emptied, each only while it ends at the message the move read last (compare-purge.ts, atomic on
   * the server): a commit appended since (another process's) keeps the run live and its entry is withdrawn. The purged
   * runs' records leave the run index.
   */
  private async purge(
    move: string,
    runs: { runId: string; subject: string; lastStreamSeq: number; period: string; seqs?: number[] }[],
  ): Promise<Set<string>> {
    const withdrawn = new Set<string>();
    const index = await this.runsIndex();
    for (const r of runs) {
      const outcome = await this.purger.purge(r.runId, r.subject, r.lastStreamSeq, move, r.seqs);
      this.host.forget(r.runId);
      if (outcome === 'live') {
        await this.withdraw(r.runId, r.period);
        withdrawn.add(r.runId);
      } else await index?.delete(r.runId).catch(() => undefined);
    }
    return withdrawn;
  }

  /** The live log wins: the run's entry leaves the archive. */
  private async withdraw(runId: string, period: string): Promise<void> {
    const { kv } = await this.open();
    await kv.delete(`in.${period}.${runId}`);
    await kv.delete(`run.${runId}`);
  }

  private async recoverHeld(): Promise<void> {
    const { kv, os } = await this.open();
    const got = await kv.get('intent');
    if (!got || got.operation !== 'PUT') return;
    const intent = got.json<Intent>();
    if (intent.op === 'restore') {
      // Not finished (its entry still there): what it published is purged, and what a writer appended meanwhile.
      const c = await this.host.link.ready();
      const deadline = this.host.link.deadline();
      for (let round = 0; (await this.entry(intent.runId)) && round < 3; round++) {
        const last = await getMessage(this.host.link, this.host.o, c, { last_by_subj: intent.subject }, deadline);
        if ((await this.purger.purge(intent.runId, intent.subject, last?.seq ?? 0, intent.move)) === 'purged') break;
      }
      this.host.forget(intent.runId);
      // Killed between deleting its `in.` marker and its entry: still archived, so counted again (marker put back).
      const still = await this.entry(intent.runId);
      if (still) await kv.put(`in.${still.period}.${intent.runId}`, '');
      else if (intent.period !== undefined) await kv.delete(`in.${intent.period}.${intent.runId}`);
    } else {
      const recorded: Entry[] = [];
      for (const runId of intent.runs) {
        const e = await this.entry(runId);
        if (e?.move === intent.move) recorded.push(e);
      }
      if (recorded.length === 0) await os.delete(intent.object).catch(() => undefined);
      const purge: { runId: string; subject: string; lastStreamSeq: number; period: string }[] = [];
      for (const e of recorded) {
        const subject = runSubject(this.host.o.subjectPrefix, e.workflowId, e.runId);
        // Up to a marker: a move killed after its rollup left one, which the purge deletes; killed between an entry's
        // put and its `in.` marker's, the run stays archived and its marker is put (archive list counts it).
        const end = await this.purger.liveEnd(e.runId, subject);
        if (end.lastSeq !== null && end.lastSeq !== e.lastSeq) await this.withdraw(e.runId, e.period);
        else purge.push({ runId: e.runId, subject, lastStreamSeq: end.lastStreamSeq, period: e.period });
      }
      const withdrawn = await this.purge(intent.move, purge);
      for (const p of purge) if (!withdrawn.has(p.runId)) await kv.put(`in.${p.period}.${p.runId}`, '');
    }
    await kv.delete('intent');
  }

  private async entry(runId: string): Promise<Entry | null> {
    const { kv } = await this.open();
    const e = await kv.get(`run.${runId}`);
    return e && e.operation === 'PUT' ? e.json<Entry>() : null;
  }

  private async bodiesOf(e: Entry): Promise<Uint8Array[]> {
    const { os } = await this.open();
    const blob = await os.getBlob(e.object);
    if (!blob)
      throw new StoreError(`archived run ${e.runId}: object ${e.object} of ${ARCHIVE_BUCKET} is missing`, {
        runId: e.runId,
      });
    return archivedBodies(gunzipSync(blob).subarray(e.bytes.from, e.bytes.to));
  }

  private async runsIndex(): Promise<KV | null> {
    const js = jetstream((await this.host.link.ready()).nc);
    return new Kvm(js).create(RUNS_INDEX_BUCKET, { bindOnly: true }).catch(() => null);
  }

  private open(): Promise<{ kv: KV; os: ObjectStore; js: JetStreamClient }> {
    this.buckets ??= (async () => {
      const c = await this.host.link.ready();
      const js = jetstream(c.nc);
      const replicas = this.host.o.streamConfig.num_replicas ?? 1;
      const storage = this.host.o.streamConfig.storage === StorageType.Memory ? StorageType.Memory : StorageType.File;
      const kv = await kvRetrying(`KV ${ARCHIVE_INDEX_BUCKET}`, () =>
        new Kvm(js).create(ARCHIVE_INDEX_BUCKET, { history: 1, replicas, storage }),
      );
      const os = await kvRetrying(`object store ${ARCHIVE_BUCKET}`, () =>
        new Objm(js).create(ARCHIVE_BUCKET, { replicas, storage }),
      );
      return { kv, os, js };
    })();
    this.buckets.catch(() => {
      this.buckets = undefined;
    });
    return this.buckets;
  }
}
