/**
 * Under each goal `npm run bench` missed, the arithmetic of where it stops on this machine (bench/goal-arithmetic.ts),
 * from the run's own figures: the CPU a run may use at the goal's rate against what each side used, the long chain's
 * fold without its hash, the engine's CPU at 1,000 runs at once, the cipher's cost against what 0.9× allows.
 */
import { describe, expect, it } from 'vitest';
import { goalArithmetic } from '../../bench/goal-arithmetic.js';

/** Figures as two whole runs on a 2-core machine read them (bench/RESULTS.md, 2026-11-29). */
const FIGURES = {
  'peers.bullmq_aof_workflows_per_sec': 2000,
  'peers.bullmq_aof_cpu_ms_per_run': 0.85,
  'peers.bullmq_aof_p50_ms': 2,
  'peers.restate_workflows_per_sec': 500,
  'peers.handlers1_cpu_ms_per_run': 1.6,
  'peers.handlers2_cpu_ms_per_run': 1.4,
  'peers.handlers1_p50_ms': 3,
  'peers.handlers2_p50_ms': 2.5,
  'peers.cluster_cpu_ms_per_run': 2.4,
  'cluster.p50_ms': 10,
  'cluster.inprocess_p50_ms': 2.5,
  'file.raw_workflows_per_sec': 2000,
  'file.memory_cpu_ms_per_run': 0.2,
  'file.cpu_ms_per_run': 0.55,
  'file.raw_cpu_ms_per_run': 0.45,
  'scale.batch_engine_cpu_ms_many': 0.45,
  'scale.batch_engine_cpu_ms_few': 0.3,
  'statefile.on_workflows_per_sec': 800,
  'statefile.off_workflows_per_sec': 1000,
  'chain.short_replay_us_per_event': 12,
  'chain.long_replay_us_per_event': 24,
  'chain.short_fold_us_per_event': 6,
  'chain.long_fold_us_per_event': 18,
  'crypt.clear_cpu_ms_per_run': 0.5,
  'crypt.memory_seal_ms_per_run': 0.06,
};
const ALL = new Set([
  'peers.handlers_bullmq_aof_ratio',
  'peers.handlers_restate_ratio',
  'peers.bullmq_aof_ratio',
  'peers.restate_ratio',
  'peers.handlers_bullmq_aof_p50_ratio',
  'cluster.p50_ratio',
  'file.raw_ratio',
  'scale.batch_ratio',
  'statefile.on_off_ratio',
  'chain.replay_ratio',
  'crypt.file_ratio',
]);

describe('npm run bench: the arithmetic under a missed goal', () => {
  it('prices each throughput goal in CPU a run on these cores, against what each side used', () => {
    const a = goalArithmetic(FIGURES, 2, ALL);
    // 1.5 × 2,000 = 3,000 workflows/s on 2 cores: 0.667 ms a run; the better of one and two engines uses 1.4.
    expect(a['peers.handlers_bullmq_aof_ratio']).toBe(
      'at 1.5× BullMQ with AOF (3,000 workflows/s) a run may use 0.667 ms of CPU, every process on 2 cores; engines running the handlers: 1.40 ms a run (BullMQ with AOF: 0.850 ms); the goal asks 2.10× less CPU a run',
    );
    // 3 × 500 = 1,500 workflows/s: 1.333 ms a run.
    expect(a['peers.handlers_restate_ratio']).toContain('(1,500 workflows/s) a run may use 1.33 ms');
    expect(a['peers.bullmq_aof_ratio']).toContain('at 0.75× BullMQ with AOF (1,500 workflows/s) a run may use 1.33 ms');
    expect(a['peers.bullmq_aof_ratio']).toContain('the cluster path: 2.40 ms a run');
    expect(a['peers.restate_ratio']).toContain('at 2× Restate (1,000 workflows/s) a run may use 2.00 ms');
    expect(a['peers.restate_ratio']).toContain('the goal asks 1.20× less CPU a run');
    // 1.4 ms against 1.333: over; with a Restate of 400 workflows/s the budget is 1.667 and 1.4 fits.
    const slower = goalArithmetic({ ...FIGURES, 'peers.restate_workflows_per_sec': 400 }, 2, ALL);
    expect(slower['peers.handlers_restate_ratio']).toContain('a run may use 1.67 ms');
    expect(slower['peers.handlers_restate_ratio']).toContain('that fits: CPU is not what holds the rate here');
  });

  it('names the least a deployment keeping the runs index pays: in one process on the same server, against the goal', () => {
    // Without the side measured (an older run's figures), no floor is claimed.
    expect(goalArithmetic(FIGURES, 2, ALL)['peers.handlers_bullmq_aof_ratio']).not.toContain('in one process');
    const indexed = {
      ...FIGURES,
      'peers.jetstream_index_workflows_per_sec': 2600,
      'peers.jetstream_index_cpu_ms_per_run': 0.7,
    };
    const a = goalArithmetic(indexed, 2, ALL);
    // 2,600 against 1.5 × 2,000 = 3,000: out of reach even there.
    expect(a['peers.handlers_bullmq_aof_ratio']).toContain(
      'ledgerflow ran 2,600 workflows/s (1.30× BullMQ with AOF, 0.700 ms of CPU',
    );
    expect(a['peers.handlers_bullmq_aof_ratio']).toContain('below 1.5× even there');
    // 2,600 against 3 × 500 = 1,500: the machine allows it; the processes cost the difference.
    expect(a['peers.handlers_restate_ratio']).toContain('(5.20× Restate');
    expect(a['peers.handlers_restate_ratio']).toContain('3× is within this machine');
    expect(a['peers.restate_ratio']).toContain('2× is within this machine');
  });

  it('says what keeping the runs index costs a run, from the in-process sides with and without it, and whether the rest fits', () => {
    // Without the in-process sides (an older run's figures), nothing is said of the index.
    expect(goalArithmetic(FIGURES, 2, ALL)['peers.bullmq_aof_ratio']).not.toContain('runs index costs');
    const sides = { ...FIGURES, 'peers.jetstream_cpu_ms_per_run': 0.4, 'peers.jetstream_index_cpu_ms_per_run': 0.7 };
    const a = goalArithmetic(sides, 2, ALL);
    // 0.7 − 0.4 = 0.3 ms. The cluster path's 2.4 ms less 0.3 is 2.1, against the 1.33 ms 0.75× BullMQ allows: 1.58× over.
    expect(a['peers.bullmq_aof_ratio']).toContain(
      '; keeping the runs index costs 0.300 ms of CPU a run in one process (the sides on JetStream with and without it): without it 1.58× over',
    );
    // 2× Restate (1,000 workflows/s) allows 2 ms: the cluster path's 2.1 ms without the index is still over.
    expect(a['peers.restate_ratio']).toContain('without it 1.05× over');
    // 3× Restate (1,500 workflows/s) allows 1.33 ms; the handlers' 1.4 less 0.3 fits.
    expect(a['peers.handlers_restate_ratio']).toContain('without it the CPU a run would fit');
    // Where the CPU a run fits already (a Restate of 400: 1.67 ms allowed), the index is not named: the waits hold it.
    const slower = goalArithmetic({ ...sides, 'peers.restate_workflows_per_sec': 400 }, 2, ALL);
    expect(slower['peers.handlers_restate_ratio']).toContain('that fits');
    expect(slower['peers.handlers_restate_ratio']).not.toContain('runs index costs');
  });

  it('says what a step costs where a latency goal is missed', () => {
    const a = goalArithmetic(FIGURES, 2, ALL);
    expect(a['peers.handlers_bullmq_aof_p50_ratio']).toContain('engines running the handlers 0.500 ms');
    expect(a['peers.handlers_bullmq_aof_p50_ratio']).toContain('BullMQ with AOF 0.400 ms');
    // (10 − 2.5) / 5 = 1.5 ms a step more; ≤ 3× leaves 2 × 2.5 / 5 = 1 ms.
    expect(a['cluster.p50_ratio']).toContain('costs 1.50 ms more than in process');
    expect(a['cluster.p50_ratio']).toContain('leaves 1.00 ms a step');
    // Without the CPU one at a time (an older run's figures), no floor is claimed.
    expect(a['cluster.p50_ratio']).not.toContain('one at a time');
    // Nor, without the client's start timed, its share of the p50.
    expect(a['peers.handlers_bullmq_aof_p50_ratio']).not.toContain("the client's start");
  });

  it("says how much of a cluster side's p50 is the client's start, from the peers section's own p50", () => {
    // handlers2 has the better p50 (2.5 ms): 1 ms of it is the start (40%), 1.5 ms the rest.
    const a = goalArithmetic(
      { ...FIGURES, 'peers.handlers2_start_p50_ms': 1, 'peers.cluster_p50_ms': 8, 'peers.cluster_start_p50_ms': 2 },
      2,
      ALL,
    );
    expect(a['peers.handlers_bullmq_aof_p50_ratio']).toContain(
      "; of its p50 one at a time (the peers section's, 2.50 ms), 1.00 ms (40%) is the client's start (run.started appended, the engines kicked: two round trips; BullMQ's add is one call), 1.50 ms the engines' taking of the run (its first commit comes with the kick) and the five steps",
    );
    expect(a['cluster.p50_ratio']).toContain(
      "(the peers section's, 8.00 ms), 2.00 ms (25%) is the client's start (run.started appended, the engines kicked: two round trips; in process a start is a call), 6.00 ms",
    );
  });

  it('puts a floor in CPU under the p50 goals: the CPU a run costs one at a time ÷ the cores', () => {
    const withOne = {
      ...FIGURES,
      // handlers2 has the lower p50 (2.5 ms): its CPU one at a time is the one that counts.
      'peers.handlers1_one_cpu_ms_per_run': 9,
      'peers.handlers2_one_cpu_ms_per_run': 6,
      'peers.cluster_one_cpu_ms_per_run': 12,
    };
    const a = goalArithmetic(withOne, 2, ALL);
    // 6 ms on 2 cores: 3 ms a run at least, over BullMQ's p50 of 2 ms; 6 ÷ 1.4 under load = 4.29×.
    expect(a['peers.handlers_bullmq_aof_p50_ratio']).toContain(
      "one at a time engines running the handlers used 6.00 ms of CPU a run, every process with the client's (4.29× its CPU a run under load: each message wakes a process), so on 2 cores a run averages 3.00 ms at least, over the 2.00 ms of BullMQ with AOF: out of reach unless a run costs 1.50× less CPU one at a time",
    );
    // 12 ms on 2 cores: 6 ms, under 3 × 2.5 = 7.5 ms: the waits, not CPU.
    expect(a['cluster.p50_ratio']).toContain(
      'a run averages 6.00 ms at least, under the 7.50 ms of 3× in process: the waits hold it, not CPU',
    );
  });

  it('splits the long chain into its fold and its hash, and prices the cipher and the state file against the goal', () => {
    const a = goalArithmetic(FIGURES, 2, ALL);
    expect(a['chain.replay_ratio']).toBe(
      "without the state hash the long chain's fold alone is 3.00× the short one's (6.0 µs → 18.0 µs an event); the hash adds 6.0 µs an event to the long chain, 6.0 µs to the short",
    );
    // With what the check hashed: the short chain's states remembered (nothing hashed), the long chain's hashed.
    const counted = { 'chain.long_hashed_bytes_per_event': 4630.6, 'chain.long_hash_calls_per_event': 3 };
    expect(
      goalArithmetic({ ...FIGURES, ...counted, 'chain.short_hashed_bytes_per_event': 0 }, 2, ALL)['chain.replay_ratio'],
    ).toBe(
      "without the state hash the long chain's fold alone is 3.00× the short one's (6.0 µs → 18.0 µs an event); the hash adds 6.0 µs an event to the long chain (it hashes 4,631 bytes an event in 3.0 sha256 calls, the short chain 0: its states recur from run to run and are remembered, its check is lookups), 6.0 µs to the short",
    );
    expect(
      goalArithmetic({ ...FIGURES, ...counted, 'chain.short_hashed_bytes_per_event': 120 }, 2, ALL)[
        'chain.replay_ratio'
      ],
    ).toContain('the short chain 120), 6.0 µs to the short');
    // 0.5 / 0.9 − 0.5 = 0.0556 ms allowed, against 0.06.
    expect(a['crypt.file_ratio']).toContain('costs 0.060 ms on the memory store');
    expect(a['crypt.file_ratio']).toContain('allows 0.056 ms on a clear run of 0.500 ms');
    expect(a['crypt.file_ratio']).not.toContain('the cipher fits');
    // 0.060 ÷ 0.0556: the cipher alone is 1.08× what 0.9× allows.
    expect(a['crypt.file_ratio']).toContain('the cipher alone is 1.08× what the goal allows');
    // With the tight loop's seal (5 µs): six cost 0.030 ms, half the engine's 0.060.
    const tight = goalArithmetic({ ...FIGURES, 'crypt.tight_seal_us': 5 }, 2, ALL);
    expect(tight['crypt.file_ratio']).toContain(
      "six seals in a row with the cipher's caches warm cost 0.030 ms (5.0 µs each), 2.00× less than in the running engine",
    );
    const cheaper = goalArithmetic({ ...FIGURES, 'crypt.memory_seal_ms_per_run': 0.04 }, 2, ALL);
    expect(cheaper['crypt.file_ratio']).toContain('the cipher fits');
    // 0.04 of 0.0556: 72%, 0.016 ms left; the sealed side's CPU added is named when measured.
    expect(cheaper['crypt.file_ratio']).toContain('taking 72% of it; 0.016 ms is left for all else');
    expect(cheaper['crypt.file_ratio']).not.toContain('more CPU a run in all');
    const measured = goalArithmetic(
      { ...FIGURES, 'crypt.memory_seal_ms_per_run': 0.04, 'crypt.cpu_ms_per_run_added': 0.2 },
      2,
      ALL,
    );
    expect(measured['crypt.file_ratio']).toContain('where the sealed side used 0.200 ms more CPU a run in all');
    // 1000/800 − 1000/1000 = 0.25 ms added; 1000/900 − 1 = 0.111 allowed.
    expect(a['statefile.on_off_ratio']).toBe(
      'the state file and execution log add 0.250 ms a run (best rounds); ≥ 0.9× allows 0.111 ms',
    );
    expect(a['scale.batch_ratio']).toContain('grows 1.50× from 100 to 1,000 at once (0.300 ms → 0.450 ms');
    expect(a['file.raw_ratio']).toContain("at 1× raw (2,000 workflows/s) a run has 0.500 ms of the engine's thread");
  });

  it('says nothing of a goal met, nor of one whose inputs this run did not measure', () => {
    expect(goalArithmetic(FIGURES, 2, new Set(['crypt.file_ratio']))).toEqual({
      'crypt.file_ratio': expect.stringContaining('sealing'),
    });
    const noPeers = Object.fromEntries(Object.entries(FIGURES).filter(([k]) => !k.startsWith('peers.')));
    const a = goalArithmetic({ ...noPeers, 'peers.restate_workflows_per_sec': null }, 2, ALL);
    expect(Object.keys(a).filter((k) => k.startsWith('peers.'))).toEqual([]);
    expect(a['chain.replay_ratio']).toBeDefined();
  });
});
