import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two test files at a time on the 2-core CI machine: most files wait on child processes and nats-server,
    // not the CPU. One at a time (vitest's default here) took 12 minutes for the suite; two take about 7.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits on a condition; its default of 1 s is short on a machine under load.
    expect: { poll: { timeout: 10_000 } },
    globalSetup: ['test/global-nats.ts'],
  },
});
