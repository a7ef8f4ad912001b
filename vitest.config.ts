import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

// This machine's environment names an extra CA bundle (NODE_EXTRA_CA_CERTS) that every Node process parses at
// start-up, about 40-60 ms of CPU each, and the suite starts a few thousand (CLI commands, engines, workers) that
// make no TLS connection: the processes of the test run go without it.
delete process.env.NODE_EXTRA_CA_CERTS;

/** Test files that replace a module (vi.mock of node:fs): each needs a module registry of its own. */
const MOCKING = ['test/store/file-group-commit.test.ts', 'test/store/file-pipeline.test.ts', 'test/store/file-write-failure.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    // The test workers start with the young generation the ledgerflow bin gives itself (bin/ledgerflow.js): a worker
    // loads src/ and runs thousands of in-process runs, garbage that V8's 1 MB start promoted; 5-8% less CPU for
    // test/caches.test.ts and test/retention/archive-chaos.test.ts together (2026-12-04, two pairs).
    execArgv: ['--max-semi-space-size=64', '--min-semi-space-size=16'],
    // Three test files at a time on the 2-core CI machine: a file's CPU is mostly its child processes (CLI
    // commands, engines, nats-server), and much of its time is spent waiting on them or on a deadline (a 30 s
    // debounce, a 10 s backoff, a throttle window) with a core idle. One at a time (vitest's default here) took
    // 12 minutes for the suite; two took 820 s on a quiet machine (2026-11-24). On the shared machine (load 8-11
    // from other work), back to back from a fresh cache: two 1,738 s, three 1,269 s, with about the same CPU.
    // Four on a quiet machine (2026-11-25): 666 s and 1,208 CPU-s, against three's 599 s and 1,020 (more contention, no more idle to fill).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits on a condition; its default of 1 s is short on a machine under load.
    expect: { poll: { timeout: 10_000 } },
    globalSetup: ['test/global-nats.ts'],
    // The longest files first, by test/durations.json where vitest has no timings of its own (a clean clone).
    sequence: { sequencer: LongestFirst },
    // LEDGERFLOW_TEST_CPU=<file>: each file's CPU, its own and its children's, appended there (test/cpu-probe.ts).
    ...(process.env.LEDGERFLOW_TEST_CPU ? { setupFiles: ['test/cpu-probe.ts'] } : {}),
    projects: [
      // The files of a worker share one module registry instead of loading src/ again for each of 225 files
      // (vitest's summed import time: 547 s isolated, 29 s shared; CPU of the whole suite about 12% less, in
      // fresh-clone runs of 2026-11-24). The modules keep no state between calls but the caches src/caches.ts
      // lists (test/caches.test.ts fences that), tests that switch one off turn it back on, and test helpers
      // keep what they track per test file (test/helpers/cli.ts).
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: MOCKING, isolate: false } },
      { extends: true, test: { name: 'isolated', include: MOCKING, isolate: true } },
    ],
  },
});
