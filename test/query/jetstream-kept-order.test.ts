/**
 * `ledgerflow list` on NATS keeps the runs' start order in its cache folder and answers its first page from it and
 * what the bucket changed since (docs/queries.md#nats): on a real nats-server with an engine's projection, every page
 * so answered is the page the whole look answers (runs, total, cursor) after runs are added older and newer than the
 * page, settled, deleted from the bucket and marked corrupt; a bucket made anew (`reindex`) or an order file that is
 * not one is never read, and the CLI prints the same list with and without the kept order.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  type JetStreamRunIndex,
  openRunIndex,
  reindex,
  RUNS_INDEX_BUCKET,
  RUNS_INDEX_CONSUMER,
  type RunQuery,
} from '../../src/query/index.js';
import { JetStreamEventStore, type CorruptRun } from '../../src/store/index.js';
import { loadWorkflowStats } from '../../src/stats/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { APPROVED_RUN, appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from './fixtures.js';

describe.skipIf(noNats)('list on NATS from the kept start order', () => {
  const c = useCluster();
  let store: JetStreamEventStore;
  let folder: string;
  beforeAll(() => {
    folder = tempDir('lf-page-cache-');
    store = new JetStreamEventStore({ servers: c.url });
    c.defer(() => store.close());
  });

  const shapes = [COMPLETED_RUN, FAILED_RUN, APPROVED_RUN].map(historyCommits);
  /** Run `n`: one of three shapes, started `n` minutes after the history's own start (so its place is known). */
  const run = (n: number) => asRun(shapes[n % 3]!, `pc-${String(n).padStart(4, '0')}`, n * 60_000);
  const current = async () => {
    const nc = await c.connect();
    try {
      const ci = await (await jetstreamManager(nc)).consumers.info(store.stream, RUNS_INDEX_CONSUMER);
      return ci.num_pending === 0 && ci.num_ack_pending === 0 ? true : null;
    } finally {
      await nc.close();
    }
  };
  /** The page as the kept order answers it and as the whole look does, and whether the kept order answered. */
  const both = async (q: RunQuery) => {
    const seen: CorruptRun[] = [];
    const cached = openRunIndex({ store, pageCacheDir: folder, onCorrupt: (x) => seen.push(x) }) as JetStreamRunIndex;
    const page = await cached.query(q);
    const wholeSeen: CorruptRun[] = [];
    const whole = await openRunIndex({ store, onCorrupt: (x) => wholeSeen.push(x) }).query(q);
    return { page, whole, fromOrder: cached.lastLoad === null, seen, wholeSeen };
  };
  /**
   * `ledgerflow --nats <url> <args> --json` once the projection is current, with the kept order off and kept in
   * `cacheDir`: the same output both ways; the kept one's returned.
   */
  const sameWithAndWithout = async (args: string[], cacheDir: string) => {
    await waitFor('the projection current', current);
    const run = (cache: string) =>
      cli(['--nats', c.url, ...args, '--json'], {
        env: { LEDGERFLOW_STATE_FILE: '', LEDGERFLOW_COMPILE_CACHE: cache },
      });
    const off = await run('off');
    expect(off.code, off.stderr).toBe(0);
    const kept = await run(cacheDir);
    expect(kept.stdout).toBe(off.stdout);
    return kept.stdout;
  };
  /** The one order file kept in `cacheDir`. */
  const orderFileIn = (cacheDir: string) => {
    const files = readdirSync(cacheDir).filter((f) => f.endsWith('.order'));
    expect(files).toHaveLength(1);
    return join(cacheDir, files[0]!);
  };
  /** The order file's identity: a keep writes a new file and renames it into place. */
  const orderWritten = (cacheDir: string) => {
    const st = statSync(orderFileIn(cacheDir), { bigint: true });
    return `${st.ino}/${st.mtimeNs}`;
  };
  const same = async (q: RunQuery, fromOrder: boolean) => {
    await waitFor('the projection current', current);
    const b = await both(q);
    expect(b.page).toEqual(b.whole);
    expect(b.seen).toEqual(b.wholeSeen);
    expect(b.fromOrder).toBe(fromOrder);
    return b;
  };

  it('answers as the whole look does while runs come, settle, go and turn corrupt', async () => {
    const engine = await c.addEngine({ schedules: false });
    try {
      for (let n = 100; n < 160; n++) await appendCommits(store, run(n));
      // The first look reads every record and keeps the order; the next answers from it.
      await same({ limit: 10 }, false);
      const kept = await same({ limit: 10 }, true);
      expect(kept.page.total).toBe(60);
      expect(kept.page.runs.map((r) => r.runId)).toEqual(
        Array.from({ length: 10 }, (_, i) => `pc-${String(159 - i).padStart(4, '0')}`),
      );
      expect(kept.page.nextCursor).not.toBeNull();

      // Many kept runs moving on at once (more than are looked up one by one): begun and kept, then settled.
      const many = Array.from({ length: 70 }, (_, i) => run(3000 + i));
      await Promise.all(many.map((r) => appendCommits(store, r, 0, 1)));
      await waitFor('the projection current', current);
      await openRunIndex({ store, pageCacheDir: folder }).query({ status: 'RUNNING', limit: 1 }); // keeps them
      await Promise.all(many.map((r) => appendCommits(store, r, 1)));
      expect((await same({ limit: 10 }, true)).page.total).toBe(130);

      // Newer runs, one older than the page, one only begun (settled later), and two removed from the bucket.
      for (let n = 160; n < 165; n++) await appendCommits(store, run(n));
      await appendCommits(store, run(50));
      const begun = run(170);
      await appendCommits(store, begun, 0, 1);
      const nc = await c.connect();
      try {
        const kv = await new Kvm(jetstream(nc)).open(RUNS_INDEX_BUCKET);
        await kv.delete('pc-0158');
        await kv.purge('pc-0120');
        await same({ limit: 10 }, true);
        await appendCommits(store, begun, 1);
        const after = await same({ limit: 5 }, true);
        expect(after.page.runs[0]!.runId).toBe('pc-3069');
        expect(after.page.total).toBe(130 + 5 + 1 + 1 - 2);

        // A value marked corrupt is told, not listed, and not counted.
        const note = { corrupt: { runId: 'pc-0159', file: `${store.stream} message 1`, reason: 'hand-made' } };
        await kv.put('pc-0159', JSON.stringify(note));
        const corrupt = await same({ limit: 5 }, true);
        expect(corrupt.seen.map((x) => x.runId)).toEqual(['pc-0159']);
        expect(corrupt.page.runs.map((r) => r.runId)).not.toContain('pc-0159');
        // Every run on one page, and a limit past them all.
        await same({ limit: 500 }, true);
        // Runs in the figures changed since (deleted, purged, corrupt): a filtered query's whole look keeps all anew.
        await openRunIndex({ store, pageCacheDir: folder }).query({ workflow: 'lead_qualification', limit: 1 });
        // `stats` of each workflow from the kept figures and what changed since: the figures of the whole look.
        for (const workflow of ['lead_qualification', 'revenue_milestone', 'compliance_alerts']) {
          const cached = openRunIndex({ store, pageCacheDir: folder }) as JetStreamRunIndex;
          expect(await cached.keptFigures(workflow)).not.toBeNull();
          const fromKept = await loadWorkflowStats(cached, store, { workflow });
          expect(cached.lastLoad).toBeNull();
          expect(fromKept).toEqual(await loadWorkflowStats(openRunIndex({ store }), store, { workflow }));
        }
        // A settled run in the figures gone since: its part cannot be taken out, so the whole look answers.
        await kv.delete('pc-0150');
        await waitFor('the projection current', current);
        const gone = openRunIndex({ store, pageCacheDir: folder }) as JetStreamRunIndex;
        expect(await gone.keptFigures('lead_qualification')).toBeNull();
      } finally {
        await nc.close();
      }
    } finally {
      await c.stopEngine(engine);
    }

    // `reindex` makes the bucket anew: its order is not the kept one, so the whole look answers and keeps its own.
    await reindex(store);
    await same({ limit: 10 }, false);
    await same({ limit: 10 }, true);

    // An order file that is not one (its rows out of order) is not read: the whole look answers and keeps it anew.
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.order'))) {
      const lines = readFileSync(join(folder, file), 'utf8').split('\n');
      const rows = lines.slice(2).filter(Boolean);
      // The newest two rows swapped: read newest first, the order does not hold.
      const swapped = [...rows.slice(0, -2), rows.at(-1)!, rows.at(-2)!];
      writeFileSync(join(folder, file), `${[lines[0], lines[1], ...swapped].join('\n')}\n`);
    }
    await same({ limit: 10 }, false);
    await same({ limit: 10 }, true);
  });

  it('ledgerflow list prints the same with the kept order as without, also once it keeps the order anew', async () => {
    const cacheDir = tempDir('lf-cli-cache-');
    const agree = async () => {
      const kept = await sameWithAndWithout(['list', '--limit', '7'], cacheDir);
      orderFileIn(cacheDir); // one order kept
      return JSON.parse(kept).map((r: { runId: string }) => r.runId) as string[];
    };
    const engine = await c.addEngine({ schedules: false });
    try {
      for (let n = 4200; n < 4230; n++) await appendCommits(store, run(n));
      await agree(); // the whole look, the order kept
      expect((await agree())[0]).toBe('pc-4229');
      // More runs begun since than a page looks up one by one (one pass over the rows instead), then more than it
      // reads at all (the whole read keeps the order anew, read so next time).
      const begin = async (from: number, to: number) => {
        for (let n = from; n < to; n += 50)
          await Promise.all(Array.from({ length: 50 }, (_, k) => appendCommits(store, run(n + k), 0, 1)));
      };
      await begin(5000, 5100);
      expect((await agree())[0]).toBe('pc-5099');
      await begin(5100, 5600);
      expect((await agree())[0]).toBe('pc-5599');
      expect((await agree())[0]).toBe('pc-5599');
      // `stats` as users ask it: from the kept figures (kept by the list before), the figures of the whole look.
      const stats = (env: Record<string, string>) =>
        cli(['--nats', c.url, 'stats', 'lead_qualification', '--json'], { env: { LEDGERFLOW_STATE_FILE: '', ...env } });
      const [off, kept] = [
        await stats({ LEDGERFLOW_COMPILE_CACHE: 'off' }),
        await stats({ LEDGERFLOW_COMPILE_CACHE: cacheDir }),
      ];
      expect(kept.code, kept.stderr).toBe(0);
      expect(JSON.parse(kept.stdout)).toEqual(JSON.parse(off.stdout));
      expect(JSON.parse(kept.stdout).runs.total).toBeGreaterThan(200);
    } finally {
      await c.stopEngine(engine);
    }
  }, 120_000);

  it('a filtered list writes the order only where none is kept or it has fallen behind, and answers as without it', async () => {
    const cacheDir = tempDir('lf-cli-filtered-');
    const written = () => orderWritten(cacheDir);
    const agree = () => sameWithAndWithout(['list', '--status', 'COMPLETED', '--limit', '5'], cacheDir);
    const engine = await c.addEngine({ schedules: false });
    try {
      for (let n = 6000; n < 6012; n++) await appendCommits(store, run(n));
      await agree(); // none kept: kept now
      const first = written();
      await agree();
      await agree();
      expect(written()).toBe(first);
      // A few runs since: the order still serves a page well, left as it is.
      for (let n = 6012; n < 6015; n++) await appendCommits(store, run(n));
      await agree();
      expect(written()).toBe(first);
      // Far behind (more changes since than a page should read): kept anew.
      await Promise.all(Array.from({ length: 70 }, (_, k) => appendCommits(store, run(6100 + k))));
      await agree();
      const renewed = written();
      expect(renewed).not.toBe(first);
      // And the unfiltered first page answers from it.
      const page = await cli(['--nats', c.url, 'list', '--limit', '3', '--json'], {
        env: { LEDGERFLOW_STATE_FILE: '', LEDGERFLOW_COMPILE_CACHE: cacheDir },
      });
      expect(page.code, page.stderr).toBe(0);
      expect(written()).toBe(renewed);
    } finally {
      await c.stopEngine(engine);
    }
  }, 120_000);

  it('with thousands of runs in flight (a header longer than one read) a filtered list still leaves a current order as it is', async () => {
    const cacheDir = tempDir('lf-cli-flight-');
    const written = () => orderWritten(cacheDir);
    const agree = () => sameWithAndWithout(['list', '--status', 'RUNNING', '--limit', '5'], cacheDir);
    // Each run its first commit alone: started, in flight, listed in the order's header.
    const started = (n: number) => asRun(shapes[0]!.slice(0, 1), `pf-${String(n).padStart(5, '0')}`, n * 60_000);
    const engine = await c.addEngine({ schedules: false });
    try {
      for (let k = 0; k < 2_500; k += 250)
        await Promise.all(Array.from({ length: 250 }, (_, i) => appendCommits(store, started(20_000 + k + i))));
      // The engine's projection of 2,500 runs: longer than the usual wait on a loaded machine.
      await waitFor('the projection current', current, { timeout: 60_000 });
      await agree(); // none kept: kept now
      const header = readFileSync(orderFileIn(cacheDir), 'utf8').split('\n', 1)[0]!;
      expect(header.length).toBeGreaterThan(64 * 1024);
      expect((JSON.parse(header) as { flight: unknown[] }).flight.length).toBeGreaterThanOrEqual(2_500);
      const first = written();
      await agree();
      await agree();
      expect(written()).toBe(first);
    } finally {
      await c.stopEngine(engine);
    }
  }, 120_000);
});
