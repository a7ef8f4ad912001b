/**
 * Where a missed goal stops on this machine: the arithmetic behind it, from figures the same run measured (issue 65:
 * "where a goal is out of reach on this machine, show the arithmetic, as for the ceilings"). `npm run bench` prints a
 * line under each goal it missed, and `--json` keeps it as the goal's `arithmetic`. A goal whose inputs this run did not
 * measure (its section not run, a peer missing) gets none.
 *
 * The throughput goals are priced in CPU: on `cores` cores a rate of R workflows a second leaves cores × 1000 / R ms of
 * CPU a run, every process of the deployment together (engine, worker, nats-server; the peer's own, Redis or its
 * server), and each side's CPU a run is what the peers section measured of all its processes.
 */
type Figures = Record<string, number | string | null | undefined>;

const num = (f: Figures, key: string): number | null => {
  const v = f[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};
const ms = (x: number) => `${x < 1 ? x.toFixed(3) : x.toFixed(2)} ms`;
const us = (x: number) => `${x.toFixed(1)} µs`;
const times = (x: number) => `${x.toFixed(2)}×`;
const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')} workflows/s`;

/** The least of the figures present (engines running the handlers: one and two engines, the better). */
const least = (f: Figures, ...keys: string[]): number | null => {
  const xs = keys.map((k) => num(f, k)).filter((x): x is number => x !== null);
  return xs.length ? Math.min(...xs) : null;
};

/** The CPU a run may use (ms), every process together on `cores`, at `factor` × the peer's rate; null when not measured. */
function cpuAllowed(f: Figures, cores: number, factor: number, peer: { key: string }): number | null {
  const peerRate = num(f, `peers.${peer.key}_workflows_per_sec`);
  return peerRate === null ? null : (cores * 1000) / (factor * peerRate);
}

/** ours ÷ peer ≥ factor: the CPU a run may use at factor × the peer's rate, against what ours and the peer use. */
function cpuBudget(
  f: Figures,
  cores: number,
  factor: number,
  peer: { key: string; name: string },
  ours: { cpu: number | null; name: string },
): string | null {
  const peerRate = num(f, `peers.${peer.key}_workflows_per_sec`);
  const peerCpu = num(f, `peers.${peer.key}_cpu_ms_per_run`);
  const budget = cpuAllowed(f, cores, factor, peer);
  if (peerRate === null || budget === null || ours.cpu === null) return null;
  return (
    `at ${factor}× ${peer.name} (${rate(factor * peerRate)}) a run may use ${ms(budget)} of CPU, every process on ${cores} cores; ` +
    `${ours.name}: ${ms(ours.cpu)} a run${peerCpu !== null ? ` (${peer.name}: ${ms(peerCpu)})` : ''}; ` +
    (ours.cpu > budget
      ? `the goal asks ${times(ours.cpu / budget)} less CPU a run`
      : 'that fits: CPU is not what holds the rate here, the waits are (round trips to nats-server and its disk)')
  );
}

/**
 * `; in one process …`: the rate of the least any deployment keeping the runs index pays (Engine.run on JetStream with
 * the index's projection in the same process: no client process, no kick, no engine's read of the run; the peers
 * section's side jetstream_index) against `factor` × the peer's: below it, engines in processes of their own, which
 * add those, cannot reach the goal on this machine. '' when the side was not measured.
 */
function indexFloor(f: Figures, factor: number, peer: { key: string; name: string }): string {
  const r = num(f, 'peers.jetstream_index_workflows_per_sec');
  const cpu = num(f, 'peers.jetstream_index_cpu_ms_per_run');
  const peerRate = num(f, `peers.${peer.key}_workflows_per_sec`);
  if (r === null || peerRate === null) return '';
  const need = factor * peerRate;
  return (
    `; in one process, with no client, kick or engine's read of the run, keeping the runs index (its projection in that process), ledgerflow ran ${rate(r)}` +
    ` (${times(r / peerRate)} ${peer.name}${cpu !== null ? `, ${ms(cpu)} of CPU a run with nats-server's` : ''})` +
    (r < need
      ? `: below ${factor}× even there, so processes that add a client's start and the engines' kick and read cannot reach it on this machine`
      : `: ${factor}× is within this machine; the engines' processes are what cost the difference`)
  );
}

/**
 * `; one at a time <name> used X ms of CPU a run …`: the floor its CPU one at a time puts under its mean latency (that
 * CPU ÷ cores), against the p50 the goal allows; empty when the peers section did not measure it.
 */
function cpuFloor(f: Figures, cores: number, side: string, name: string, allowed: number, what: string): string {
  const cpu = num(f, `peers.${side}_one_cpu_ms_per_run`);
  const loaded = num(f, `peers.${side}_cpu_ms_per_run`);
  if (cpu === null) return '';
  const floor = cpu / cores;
  return (
    `; one at a time ${name} used ${ms(cpu)} of CPU a run, every process with the client's${loaded !== null ? ` (${times(cpu / loaded)} its CPU a run under load: each message wakes a process)` : ''}, ` +
    `so on ${cores} cores a run averages ${ms(floor)} at least, ${floor > allowed ? `over the ${ms(allowed)} of ${what}: out of reach unless a run costs ${times(floor / allowed)} less CPU one at a time` : `under the ${ms(allowed)} of ${what}: the waits hold it, not CPU`}`
  );
}

/**
 * How much of a cluster side's p50 one at a time is its client's start (run.started appended, the engines kicked: two
 * round trips, the deployed version being watched by a client that starts runs again), from
 * `peers.<side>_start_p50_ms`; '' when not measured.
 */
function startShare(f: Figures, side: string, peer: string): string {
  const start = num(f, `peers.${side}_start_p50_ms`);
  const p50 = num(f, `peers.${side}_p50_ms`);
  if (start === null || p50 === null) return '';
  return `; of its p50 one at a time (the peers section's, ${ms(p50)}), ${ms(start)} (${Math.round((100 * start) / p50)}%) is the client's start (run.started appended, the engines kicked: two round trips${peer}), ${ms(p50 - start)} the engines' taking of the run (its first commit comes with the kick) and the five steps`;
}

/**
 * `; keeping the runs index costs …`: the CPU a run the index's projection adds in one process (the in-process sides on
 * JetStream with and without it, nats-server's CPU included), and whether `ours` would fit the budget without it. The
 * engines of a deployment keep the index, so this is part of what their CPU a run holds. '' when either side was not
 * measured, or the CPU a run fits already.
 */
function indexCost(f: Figures, cores: number, factor: number, peer: { key: string }, cpu: number | null): string {
  const kept = num(f, 'peers.jetstream_index_cpu_ms_per_run');
  const bare = num(f, 'peers.jetstream_cpu_ms_per_run');
  const budget = cpuAllowed(f, cores, factor, peer);
  if (kept === null || bare === null || budget === null || cpu === null || kept <= bare) return '';
  const index = kept - bare;
  // Said only where the CPU a run is over the budget: where it fits, the waits hold the rate, not the index's CPU.
  if (cpu <= budget) return '';
  return (
    `; keeping the runs index costs ${ms(index)} of CPU a run in one process (the sides on JetStream with and without it)` +
    (cpu - index <= budget
      ? ': without it the CPU a run would fit'
      : `: without it ${times((cpu - index) / budget)} over`)
  );
}

/** The arithmetic of each goal this run missed, by the goal's key. */
export function goalArithmetic(f: Figures, cores: number, missed: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, line: string | null) => {
    if (missed.has(key) && line !== null) out[key] = line;
  };
  const handlersCpu = least(f, 'peers.handlers1_cpu_ms_per_run', 'peers.handlers2_cpu_ms_per_run');
  const clusterCpu = num(f, 'peers.cluster_cpu_ms_per_run');
  const bullmq = { key: 'bullmq_aof', name: 'BullMQ with AOF' };
  const restate = { key: 'restate', name: 'Restate' };
  const budget = (factor: number, peer: { key: string; name: string }, ours: { cpu: number | null; name: string }) => {
    const line = cpuBudget(f, cores, factor, peer, ours);
    return line === null ? null : line + indexCost(f, cores, factor, peer, ours.cpu) + indexFloor(f, factor, peer);
  };
  put(
    'peers.handlers_bullmq_aof_ratio',
    budget(1.5, bullmq, { cpu: handlersCpu, name: 'engines running the handlers' }),
  );
  put('peers.handlers_restate_ratio', budget(3, restate, { cpu: handlersCpu, name: 'engines running the handlers' }));
  put('peers.bullmq_aof_ratio', budget(0.75, bullmq, { cpu: clusterCpu, name: 'the cluster path' }));
  put('peers.restate_ratio', budget(2, restate, { cpu: clusterCpu, name: 'the cluster path' }));

  // One at a time, a five-step run's p50 is five steps, each an append to the log and its acknowledgement at least.
  // And a floor in CPU: over runs one after another, the processes of a side can use no more than `cores` cores, so
  // a run cannot average less than the CPU it costs (every process, the client's too) ÷ cores.
  const handlersP50 = least(f, 'peers.handlers1_p50_ms', 'peers.handlers2_p50_ms');
  const bullP50 = num(f, 'peers.bullmq_aof_p50_ms');
  if (handlersP50 !== null && bullP50 !== null) {
    const side = num(f, 'peers.handlers1_p50_ms') === handlersP50 ? 'handlers1' : 'handlers2';
    put(
      'peers.handlers_bullmq_aof_p50_ratio',
      `a step one at a time: engines running the handlers ${ms(handlersP50 / 5)} (a durable append to JetStream and its acknowledgement, then the handler), BullMQ with AOF ${ms(bullP50 / 5)} (one Lua call on Redis)` +
        startShare(f, side, "; BullMQ's add is one call") +
        cpuFloor(f, cores, side, 'engines running the handlers', bullP50, 'BullMQ with AOF'),
    );
  }

  const clP50 = num(f, 'cluster.p50_ms');
  const inP50 = num(f, 'cluster.inprocess_p50_ms');
  if (clP50 !== null && inP50 !== null)
    put(
      'cluster.p50_ratio',
      `a step of the cluster path costs ${ms((clP50 - inP50) / 5)} more than in process (the attempt to a worker and its signed outcome back: four crossings of nats-server); ≤ 3× leaves ${ms((2 * inP50) / 5)} a step for them` +
        startShare(f, 'cluster', '; in process a start is a call') +
        cpuFloor(f, cores, 'cluster', 'the cluster path', 3 * inP50, '3× in process'),
    );

  const raw = num(f, 'file.raw_workflows_per_sec');
  const engineCpu = num(f, 'file.memory_cpu_ms_per_run');
  const fileCpu = num(f, 'file.cpu_ms_per_run');
  const rawCpu = num(f, 'file.raw_cpu_ms_per_run');
  if (raw !== null && engineCpu !== null && fileCpu !== null && rawCpu !== null)
    put(
      'file.raw_ratio',
      `at 1× raw (${rate(raw)}) a run has ${ms(1000 / raw)} of the engine's thread; the engine alone (no store) uses ${ms(engineCpu)} of it, the file store's run ${ms(fileCpu)} in all, the raw loop's appends ${ms(rawCpu)}`,
    );

  const many = num(f, 'scale.batch_engine_cpu_ms_many');
  const few = num(f, 'scale.batch_engine_cpu_ms_few');
  if (many !== null && few !== null)
    put(
      'scale.batch_ratio',
      `the engine's own CPU a run, no store, grows ${times(many / few)} from 100 to 1,000 at once (${ms(few)} → ${ms(many)}: a larger working set, more of it promoted and collected); the store's group commit has that much to make up`,
    );

  const on = num(f, 'statefile.on_workflows_per_sec');
  const off = num(f, 'statefile.off_workflows_per_sec');
  if (on !== null && off !== null)
    put(
      'statefile.on_off_ratio',
      `the state file and execution log add ${ms(1000 / on - 1000 / off)} a run (best rounds); ≥ 0.9× allows ${ms(1000 / (0.9 * off) - 1000 / off)}`,
    );

  const shortReplay = num(f, 'chain.short_replay_us_per_event');
  const longReplay = num(f, 'chain.long_replay_us_per_event');
  const shortFold = num(f, 'chain.short_fold_us_per_event');
  const longFold = num(f, 'chain.long_fold_us_per_event');
  const shortBytes = num(f, 'chain.short_hashed_bytes_per_event');
  const longBytes = num(f, 'chain.long_hashed_bytes_per_event');
  const longCalls = num(f, 'chain.long_hash_calls_per_event');
  // What the check hashes: a short run's states recur from run to run of its definition and are remembered
  // (runtime/state-hash-cache.ts), so its check may hash nothing at all; a long run's do not recur.
  const hashed =
    shortBytes !== null && longBytes !== null && longCalls !== null
      ? ` (it hashes ${Math.round(longBytes).toLocaleString('en-US')} bytes an event in ${longCalls.toFixed(1)} sha256 calls, the short chain ${Math.round(shortBytes).toLocaleString('en-US')}${shortBytes < 1 ? ': its states recur from run to run and are remembered, its check is lookups' : ''})`
      : '';
  if (shortReplay !== null && longReplay !== null && shortFold !== null && longFold !== null)
    put(
      'chain.replay_ratio',
      `without the state hash the long chain's fold alone is ${times(longFold / shortFold)} the short one's (${us(shortFold)} → ${us(longFold)} an event); the hash adds ${us(longReplay - longFold)} an event to the long chain${hashed}, ${us(shortReplay - shortFold)} to the short`,
    );

  const clearCpu = num(f, 'crypt.clear_cpu_ms_per_run');
  const seal = num(f, 'crypt.memory_seal_ms_per_run');
  const tight = num(f, 'crypt.tight_seal_us');
  const added = num(f, 'crypt.cpu_ms_per_run_added');
  if (clearCpu !== null && seal !== null) {
    const allowed = clearCpu / 0.9 - clearCpu;
    const floor =
      tight === null
        ? ''
        : `; six seals in a row with the cipher's caches warm cost ${ms((6 * tight) / 1000)} (${us(tight)} each), ${times(seal / ((6 * tight) / 1000))} less than in the running engine`;
    put(
      'crypt.file_ratio',
      `sealing a run's six payload fields costs ${ms(seal)} on the memory store (the cipher alone); ≥ 0.9× allows ${ms(allowed)} on a clear run of ${ms(clearCpu)} of CPU${seal <= allowed ? `: the cipher fits, taking ${Math.round((100 * seal) / allowed)}% of it; ${ms(allowed - seal)} is left for all else a sealed run does (the seals' JSON and copies, longer lines written and synced)${added !== null ? `, where the sealed side used ${ms(added)} more CPU a run in all` : ''}` : `: the cipher alone is ${times(seal / allowed)} what the goal allows`}${floor}`,
    );
  }
  return out;
}
