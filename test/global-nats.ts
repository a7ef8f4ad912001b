/**
 * vitest globalSetup: one nats-server (from nats-dev.conf, free port, temp store
 * dir) for the whole test run. Tests reach it through test/helpers/cluster.ts
 * (`useCluster({ server: 'shared' })`); `natsUrl` is '' when no
 * usable nats-server is installed, and `natsSkipReason` says why (tests then
 * skip with that message). In CI (CI=1) a missing server is an error: .ci/run
 * installs it, so the JetStream tests must run there.
 */
import type { TestProject } from 'vitest/node';
import { MIN_NATS_SERVER, natsServerBin, natsServerVersion, startNatsServer, versionAtLeast } from './helpers/nats.js';

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
    natsSkipReason: string;
  }
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const bin = natsServerBin();
  const version = bin ? natsServerVersion(bin) : null;
  let why = '';
  if (!bin) why = 'nats-server is not installed (apt-get install nats-server, or set NATS_SERVER_BIN)';
  else if (!version || !versionAtLeast(version, MIN_NATS_SERVER))
    why = `${bin} is version ${version?.join('.') ?? 'unknown'}; the JetStream tests need >= ${MIN_NATS_SERVER.join('.')}`;
  if (why) {
    if (process.env.CI) throw new Error(`JetStream tests cannot run in CI: ${why}`);
    provide('natsUrl', '');
    provide('natsSkipReason', why);
    return async () => {};
  }
  const server = await startNatsServer({ bin: bin! });
  provide('natsUrl', server.url);
  provide('natsSkipReason', '');
  return () => server.dispose();
}
