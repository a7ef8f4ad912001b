/**
 * `npm run bench -- evicted`: an approval for a waiting run the engine no
 * longer holds in memory. p50 from publishing the approval (as the approver,
 * on lf.approvals.<run>.<task>.<user>) to the run's next commit seen on its
 * log subject, next to the same for a run the engine holds (baseline),
 * approvals of the two kinds alternating.
 *
 * How a run leaves an engine's memory: its RunHost caches at most 10,000
 * runs (src/cluster/engine/run-host.ts, CACHED_RUNS, no flag), the oldest loaded
 * forgotten first. So after the measured waiting runs, 10,000 more waiting
 * runs are started through the same engine process (a couple of minutes
 * here): it forgets the first ones, and holds the last ones, the baseline.
 *
 * `--evict-by-restart` (and --quick) asks a cheaper, different question: the
 * log gets the commits of 10,000 completed five-step runs (1,000 with
 * --quick; one real run's commits under other run ids, through the
 * JetStream store), then the engine process is restarted, so it holds none
 * of the measured runs (nor their positions in the store's cache); the
 * baseline runs are started with the new engine.
 */
import type { ChildProcess } from 'node:child_process';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { ClusterClient } from '../src/cluster/index.js';
import { Engine } from '../src/local/index.js';
import { runReads } from '../src/runs/index.js';
import { JetStreamEventStore, MemoryEventStore, type AppendRequest } from '../src/store/index.js';
import { spawnNode, stopNode, LogWatch } from './cluster-rig.js';
import { startBenchNats } from './nats.js';
import { def, FIVE_YAML, fiveHandlers, fmt, list, now, p50, pool, progress, type Bench } from './kit.js';

/** What src/cluster/engine/run-host.ts keeps (CACHED_RUNS): one run more and the first is forgotten. */
const CACHED_RUNS = 10_000;

const APPROVAL_YAML = `
workflow:
  id: bench-approval
  name: One sign-off
  version: 1
  tasks:
    - { id: sign_off, type: HUMAN, approvers: [alice] }
`;

export async function benchEvicted(b: Bench): Promise<void> {
  const { say, figures } = b;
  const samples = b.runs ?? (b.quick ? 3 : 20);
  const definition = def(APPROVAL_YAML);
  progress('evicted: starting nats-server and an engine process');
  const server = await startBenchNats();
  let engine: ChildProcess | null = null;
  const client = new ClusterClient(server.url);
  const watch = await LogWatch.open(server.url);
  try {
    engine = await spawnNode(['engine', server.url]);
    await client.deploy(definition);
    const js = jetstream(watch.nc);
    const jsm = await jetstreamManager(watch.nc);
    const waitingRun = async () => {
      const { runId } = await client.start(definition.id, {});
      const v = await runReads(client.store).wait(runId, { timeoutMs: 60_000, orWaiting: true });
      if (v.status !== 'WAITING') throw new Error(`run ${runId} is ${v.status}, not WAITING`);
      return runId;
    };
    const approve = async (runId: string) => {
      const committed = watch.next(runId, false);
      const t = now();
      await js.publish(
        `lf.approvals.${runId}.sign_off.alice`,
        new TextEncoder().encode(JSON.stringify({ decision: 'approved' })),
      );
      await committed;
      return now() - t;
    };
    progress(`evicted: ${samples + 1} waiting runs with the first engine`);
    const old: string[] = [];
    for (let i = 0; i <= samples; i++) old.push(await waitingRun());
    const real = !b.quick && !process.argv.includes('--evict-by-restart');
    const recent: string[] = [];
    if (real) {
      // The engine loads (and caches) each run as it takes its start; 10,000 later ones push the first out.
      progress(`evicted: ${fmt(CACHED_RUNS)} more waiting runs, so that the engine forgets the first ones`);
      const ids: string[] = [];
      await pool(CACHED_RUNS, 64, async (i) => {
        ids[i] = (await client.start(definition.id, {})).runId;
        if ((i + 1) % 1_000 === 0) progress(`evicted: ${fmt(i + 1)} of ${fmt(CACHED_RUNS)} started`);
      });
      for (const id of ids.slice(-samples - 1))
        await runReads(client.store).wait(id, { timeoutMs: 600_000, orWaiting: true });
      recent.push(...ids.slice(-samples));
      await drained(jsm);
    } else {
      const others = b.quick ? 1_000 : 10_000;
      progress(`evicted: ${fmt(others)} other five-step runs' commits on the same log`);
      await fillLog(server.url, others);
      await drained(jsm);
      progress('evicted: restarting the engine (the new one holds none of them)');
      await stopNode(engine);
      engine = await spawnNode(['engine', server.url]);
      await approve(await waitingRun()); // warm-up of the new engine's consumers
      await drained(jsm);
    }
    const held: number[] = [];
    const evicted: number[] = [];
    for (let i = 0; i < samples; i++) {
      held.push(await approve(real ? recent[i]! : await waitingRun()));
      evicted.push(await approve(old[i]!));
    }
    const evictedP50 = p50(evicted);
    const heldP50 = p50(held);
    Object.assign(figures, {
      'evicted.approval_p50_ms': evictedP50,
      'evicted.held_approval_p50_ms': heldP50,
      'evicted.held_ratio': evictedP50 / heldP50,
    });
    b.details.evicted = {
      samples,
      how: real ? 'evicted from the cache by 10,000 later runs' : 'engine restarted, 10,000 runs on the log',
      evictedMs: evicted,
      heldMs: held,
    };
    say(
      `\nan approval for a waiting run, from publishing it to the run's next commit, ${samples} of each kind alternating (p50):`,
    );
    say(`  baseline: a run the engine holds in memory          p50 ${fmt(heldP50, 1)} ms  ${list(held)}`);
    say(
      `  a run the engine does not hold (${real ? 'evicted from its cache' : 'restarted engine'})    p50 ${fmt(evictedP50, 1)} ms  ${list(evicted)}  (goal ≤ 100 ms)`,
    );
  } finally {
    if (engine) await stopNode(engine);
    await client.close().catch(() => undefined);
    await watch.close().catch(() => undefined);
    await server.dispose();
  }
}

/**
 * Waits (at most 5 minutes) until the engine has nothing left to do: no
 * consumer of any stream with messages pending or unacked (the starts' kicks,
 * the run index catching up with the log), twice in a row half a second apart.
 */
async function drained(jsm: JetStreamManager): Promise<void> {
  const until = Date.now() + 300_000;
  let quiet = 0;
  let said = Date.now();
  while (Date.now() < until && quiet < 2) {
    let busy = 0;
    const who: string[] = [];
    for await (const s of jsm.streams.list()) {
      for await (const c of jsm.consumers.list(s.config.name)) {
        // The engines' work is on durable consumers; an ephemeral one (a reader's) is not theirs to drain.
        if (!c.config.durable_name) continue;
        busy += c.num_pending + c.num_ack_pending;
        if (c.num_pending + c.num_ack_pending > 0)
          who.push(`${s.config.name}/${c.name} (${c.num_pending} pending, ${c.num_ack_pending} unacked)`);
      }
    }
    if (who.length > 0 && Date.now() - said > 10_000) {
      progress(`evicted: waiting for ${who.join(', ')}`);
      said = Date.now();
    }
    quiet = busy === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (quiet < 2) progress('evicted: the engine still had messages pending after 5 minutes; measuring anyway');
}

/** Appends the commits of `runs` completed five-step runs to the log (LF_EVENTS): one real run's, each under a run id of its own. */
async function fillLog(url: string, runs: number): Promise<void> {
  const memory = new MemoryEventStore();
  const template: AppendRequest[] = [];
  const recording = Object.assign(Object.create(memory), {
    append: (r: AppendRequest) => {
      template.push(r);
      return memory.append(r);
    },
  });
  await new Engine({ store: recording }).run(def(FIVE_YAML), {}, { handlers: fiveHandlers(), follow: false });
  const store = new JetStreamEventStore({ servers: url, name: 'ledgerflow-bench-filler' });
  try {
    await pool(runs, 256, async (i) => {
      const runId = `filler-${i}`;
      for (const c of template) {
        const events = c.events.map((e) => ({ ...e, runId }));
        await store.append({ runId, expectedSeq: events[0]!.seq - 1, dedupId: `${runId}/${events[0]!.seq}`, events });
      }
      if ((i + 1) % 2_000 === 0) progress(`evicted: ${fmt(i + 1)} of ${fmt(runs)} runs appended`);
    });
  } finally {
    await store.close();
  }
}
