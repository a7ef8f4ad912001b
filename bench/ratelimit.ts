/**
 * A task rate limit held across a cluster: a one-task
 * workflow whose task has `rate_limit: { limit: 100, per: 1s }`, on 3 engine
 * processes and a worker process (bench/cluster-node.ts) on a nats-server
 * the bench starts. Runs are started from this process so that IN_FLIGHT
 * (default 300) are under way at every moment (a new one as each completes):
 * enough that attempts wait at the gate, so the limit, not the start path,
 * sets the pace, for RATE_SECONDS (default 30) after a WARMUP_S warm-up.
 * Read afterwards from every run's history, the `task.started` times (the
 * moment the gate let each attempt in): `ratelimit.max_window`, the most
 * starts in any sliding 1 s window (must be at most 100; and
 * `ratelimit.max_window_ratio`, ÷ 100), `ratelimit.cluster_rate_per_s`, the
 * starts per second over the RATE_SECONDS after the warm-up, and
 * `ratelimit.rate_ratio` (÷ 100: held within 5% is 0.95 to 1). The baseline,
 * first, on the same cluster: the same runs without the limit for a third of
 * the time (`ratelimit.unlimited_rate_per_s`, what this cluster starts on
 * this machine now); `ratelimit.held_ratio` is the rate ÷ the lesser of 100
 * and that (on a machine too loaded to start 100 runs a second, the limit
 * cannot be what holds them back). `details.ratelimit.waitingAtGate`: the
 * attempts waiting at the gate, sampled each second (0: the limit was not
 * what set the pace then). `ratelimit.cpu_ms_per_run`: engines' and
 * worker's CPU per limited run. Run alone with
 * `npm run -s bench -- ratelimit --json` (`RATE_SECONDS=10` to shorten it).
 */
import { ClusterClient } from '../src/cluster/index.js';
import { gateDocName } from '../src/limits/index.js';
import { cpuOf, def, fmt, pool, procCpuUs, type Bench } from './kit.js';
import { LogWatch, spawnNode, stopNode } from './cluster-rig.js';
import { startBenchNats } from './nats.js';
import { mostWithin } from '../test/helpers/task-limits.js';

const LIMIT = 100;
const PER_MS = 1000;
const WARMUP_S = 3;

const workflow = (id: string, limit: string) => `
workflow:
  id: ${id}
  version: 1
  tasks:
    - id: s1
      type: SIMPLE
${limit}`;

export async function benchRateLimit(b: Bench): Promise<void> {
  const seconds = Number(process.env.RATE_SECONDS ?? (b.quick ? 5 : 30));
  const inFlight = Number(process.env.IN_FLIGHT ?? 300);
  const engines = 3;
  const server = await startBenchNats();
  const children: Awaited<ReturnType<typeof spawnNode>>[] = [];
  const watch = await LogWatch.open(server.url);
  const client = new ClusterClient(server.url);
  try {
    children.push(await spawnNode(['engine', server.url]));
    children.push(
      ...(await Promise.all([
        ...Array.from({ length: engines - 1 }, () => spawnNode(['engine', server.url])),
        spawnNode(['worker', server.url, '64']),
      ])),
    );
    const rated = def(workflow('bench-rated', `      rate_limit: { limit: ${LIMIT}, per: 1s }\n`));
    const plain = def(workflow('bench-unrated', ''));
    await client.deploy(rated);
    await client.deploy(plain);
    const pids = children.map((c) => c.pid!);
    /** IN_FLIGHT loops, each starting a run of `id` and waiting for it to complete, for `s` seconds after the warm-up; the starts' times. */
    const drive = async (id: string, s: number, sample?: () => void) => {
      const runIds: string[] = [];
      const stopAt = performance.now() + (WARMUP_S + s + 2) * 1000;
      const sampler = sample ? setInterval(sample, 1000) : null;
      await pool(inFlight, inFlight, async () => {
        while (performance.now() < stopAt) {
          const { runId } = await client.start(id, {});
          runIds.push(runId);
          await watch.next(runId, true);
        }
      });
      if (sampler) clearInterval(sampler);
      const starts: number[] = [];
      for (let i = 0; i < runIds.length; i += 200) {
        const batch = await Promise.all(runIds.slice(i, i + 200).map((r) => client.store.read(r)));
        for (const events of batch)
          for (const e of events) if (e.type === 'task.started') starts.push(Date.parse(e.time));
      }
      starts.sort((x, y) => x - y);
      const from = starts[0]! + WARMUP_S * 1000;
      const inSpan = starts.filter((t) => t >= from && t < from + s * 1000).length;
      // Starts in each second of the span (where the pace dropped, and when).
      const perSecond = Array.from(
        { length: s },
        (_, i) => starts.filter((t) => t >= from + i * 1000 && t < from + (i + 1) * 1000).length,
      );
      return { runs: runIds.length, starts, rate: inSpan / s, inSpan, perSecond };
    };
    // The baseline: the same runs without the limit, what this cluster does on this machine now.
    const baseSeconds = Math.max(5, Math.round(seconds / 3));
    const base = await drive(plain.id, baseSeconds);
    // How many attempts wait at the gate (its document's line and reservations), sampled each second: saturated means never 0.
    const doc = gateDocName(`task/${rated.id}/s1`);
    const backlog: number[] = [];
    const sample = () => {
      void client.store.readShared(doc).then(
        (d) => {
          const g = d as { waiters?: object; reserved?: object } | null;
          backlog.push(Object.keys(g?.waiters ?? {}).length + Object.keys(g?.reserved ?? {}).length);
        },
        () => undefined,
      );
    };
    const cpu0 = cpuOf(pids);
    const serverCpu0 = procCpuUs(server.pid);
    const startedAt = performance.now();
    const limited = await drive(rated.id, seconds, sample);
    const wallS = (performance.now() - startedAt) / 1000;
    const cpu1 = cpuOf(pids);
    const serverCpu1 = procCpuUs(server.pid);
    const cpuMsPerRun = cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / 1000 / limited.runs : null;
    const serverCpuMsPerRun =
      serverCpu0 !== null && serverCpu1 !== null ? (serverCpu1 - serverCpu0) / 1000 / limited.runs : null;
    const { starts, rate, inSpan, perSecond } = limited;
    const most = mostWithin(starts, PER_MS);
    const ceiling = Math.min(LIMIT, base.rate);
    b.figures['ratelimit.unlimited_rate_per_s'] = base.rate;
    b.figures['ratelimit.held_ratio'] = rate / ceiling;
    b.figures['ratelimit.cluster_rate_per_s'] = rate;
    b.figures['ratelimit.rate_ratio'] = rate / LIMIT;
    b.figures['ratelimit.max_window'] = most;
    b.figures['ratelimit.max_window_ratio'] = most / LIMIT;
    b.figures['ratelimit.cpu_ms_per_run'] = cpuMsPerRun;
    const waitingAtGate = {
      min: Math.min(...backlog.slice(WARMUP_S, WARMUP_S + seconds)),
      max: Math.max(...backlog),
      samples: backlog,
    };
    b.details.ratelimit = {
      waitingAtGate,
      cpuMsPerRun,
      serverCpuMsPerRun,
      limit: LIMIT,
      perMs: PER_MS,
      seconds,
      warmupS: WARMUP_S,
      inFlight,
      engines,
      workers: 1,
      runs: limited.runs,
      starts: starts.length,
      inSpan,
      perSecond,
      rate,
      maxWindow: most,
      wallS,
      unlimited: { seconds: baseSeconds, runs: base.runs, rate: base.rate, maxWindow: mostWithin(base.starts, PER_MS) },
    };
    b.say(
      `ratelimit: rate_limit ${LIMIT} per 1s on ${engines} engines, ${inFlight} runs in flight: ${fmt(rate, 1)} starts/s over ${seconds} s (×${fmt(rate / LIMIT, 3)} of the limit; the same runs without the limit: ${fmt(base.rate, 1)}/s, so ×${fmt(rate / ceiling, 3)} of what this cluster could start); at most ${most} starts in any 1 s window (from the histories; ${limited.runs} runs); waiting at the gate ${waitingAtGate.min}..${waitingAtGate.max}; engines + worker CPU ${cpuMsPerRun === null ? '?' : fmt(cpuMsPerRun, 2)} ms per run, nats-server ${serverCpuMsPerRun === null ? '?' : fmt(serverCpuMsPerRun, 2)} ms`,
    );
  } finally {
    await Promise.all(children.map(stopNode));
    await client.close().catch(() => undefined);
    await watch.close().catch(() => undefined);
    await server.dispose();
  }
}
