import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits on a condition; its default of 1 s is short on a machine under load.
    expect: { poll: { timeout: 10_000 } },
    globalSetup: ['test/global-nats.ts'],
  },
});
