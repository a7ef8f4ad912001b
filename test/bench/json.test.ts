/**
 * `npm run bench -- --json` is what the engineers read their
 * figures from: one JSON object on stdout, the flat figures by name. Checked
 * on the cheapest section with --quick (small counts); the figures' values are
 * never asserted, only that they are there and numbers.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// As the docs say it, through the npm script (which measures the build: bench/built.mjs; `npm test` builds first).
const bench = (args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync('npm', ['run', '-s', 'bench', '--', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: opts.timeout ?? 60_000,
    ...(opts.env ? { env: opts.env } : {}),
  });

describe('npm run bench -- --json', () => {
  it('prints one JSON object with the figures of the sections named, progress on stderr', () => {
    const r = bench(['fold', '--quick', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['fold.parse_ratio', 'fold.events_per_sec', 'fold.parse_events_per_sec']) {
      expect(typeof out[key], key).toBe('number');
    }
    expect(out).toHaveProperty('machine.cores');
    expect(out).not.toHaveProperty(['file.raw_ratio']); // not named, not run
    expect(r.stderr).toContain('fold: done');
  }, 60_000);

  it('peers: a peer not measured is null with why, never zero; the ceiling figures and their goals are there', () => {
    // No peer selected, so nothing is installed or started but ours (a nats-server, engine and worker processes).
    const r = bench(['peers', '--quick', '--json'], {
      timeout: 120_000,
      env: { ...process.env, LEDGERFLOW_BENCH_PEERS: 'none' },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    for (const peer of ['dbos', 'restate', 'bullmq_aof', 'bullmq'])
      expect(out[`peers.${peer}_missing`], peer).toContain('LEDGERFLOW_BENCH_PEERS');
    for (const key of [
      'peers.dbos_ratio',
      'peers.dbos_file_ratio',
      'peers.restate_ratio',
      'peers.bullmq_aof_ratio',
      'peers.restate_p50_ratio',
    ])
      expect(out[key], key).toBeNull();
    for (const key of [
      'ceiling.file_ratio',
      'ceiling.jetstream_ratio',
      'ceiling.cluster_ratio',
      'engine.cpu_ms_per_run',
      'peers.cluster_workflows_per_sec',
      'peers.file_p50_ms',
    ]) {
      expect(typeof out[key], key).toBe('number');
    }
    // The client's start of each run one at a time, on each side that starts runs as a client: a part of its p50.
    for (const side of ['cluster', 'handlers1', 'handlers2']) {
      expect(out[`peers.${side}_start_p50_ms`], side).toBeGreaterThan(0);
      expect(out[`peers.${side}_start_p50_ms`], side).toBeLessThan(out[`peers.${side}_p50_ms`]);
    }
    // The CPU a run costs one at a time, every process of each of our sides (the p50 goals' floor): measured, above zero.
    for (const side of ['memory', 'file', 'jetstream', 'cluster', 'handlers1', 'handlers2'])
      expect(out[`peers.${side}_one_cpu_ms_per_run`], side).toBeGreaterThan(0);
    expect(out.goals['ceiling.file_ratio']).toMatchObject({ goal: '>= 0.8', value: out['ceiling.file_ratio'] });
    expect(out.goals['peers.dbos_ratio']).toEqual({ goal: '>= 1.5', value: null, met: null });
    expect(out.goals['engine.cpu_ms_per_run'].goal).toBe('<= 0.15');
  }, 120_000);

  it('chain and crypt: the figures the arithmetic reads are there, and a goal missed carries its arithmetic', () => {
    const r = bench(['chain', 'crypt', '--quick', '--json'], { timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    for (const key of [
      'chain.short_fold_us_per_event',
      'chain.long_fold_us_per_event',
      'crypt.clear_cpu_ms_per_run',
      'crypt.memory_seal_ms_per_run',
    ])
      expect(typeof out[key], key).toBe('number');
    expect(out['crypt.tight_seal_us']).toBeGreaterThan(0);
    // The method read with no difference to find (both sides clear), beside the ratio it makes: a rate ratio, near 1.
    expect(out['crypt.file_aa_ratio']).toBeGreaterThan(0.3);
    expect(out['crypt.file_aa_ratio']).toBeLessThan(3);
    expect(out.details.crypt.pairs).toHaveLength(1);
    // What the check hashes an event: the long chain's states are new at every event, so it hashes; counted, not timed.
    expect(out['chain.long_hashed_bytes_per_event']).toBeGreaterThan(0);
    expect(out['chain.long_hash_calls_per_event']).toBeGreaterThan(0);
    expect(out['chain.short_hashed_bytes_per_event']).toBeGreaterThanOrEqual(0);
    // Met or missed, as CONTRIBUTING.md says: the arithmetic under a goal missed, none under a goal met.
    for (const [key, words] of [
      ['chain.replay_ratio', 'without the state hash'],
      ['crypt.file_ratio', "sealing a run's six payload fields"],
    ] as const) {
      const g = out.goals[key];
      if (g.met === false) expect(g.arithmetic, key).toContain(words);
      else expect(g.arithmetic, key).toBeUndefined();
    }
  }, 120_000);

  it('refuses a section it does not have, naming the ones it has', () => {
    const r = bench(['nosuch', '--json']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('the sections are');
  });
});
