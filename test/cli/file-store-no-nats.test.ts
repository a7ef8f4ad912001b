/**
 * Commands on the embedded file store never load the NATS client: the store and query modules hold both
 * adapters, and the client's values come from store/jetstream/nats-lib.ts, required on first use (loading the
 * client costs ~60 ms of CPU per command). Runs the built CLI (npm run build) with a preload that lists the
 * @nats-io modules the process loaded (the command's bundle holds the client: nats-lib.ts marks its loading).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, cli, tempDir } from '../helpers/cli.js';

const BUNDLED = join(ROOT, 'definitions', 'inventory-validation.yaml');
const SAMPLES = join(ROOT, 'definitions', 'samples');
const PROBE = join(ROOT, 'test', 'helpers', 'loaded-nats.cjs');

/** `args` run on the CLI; the @nats-io modules it loaded. */
async function loadedBy(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; loaded: string[]; stderr: string }> {
  const out = join(cwd, `loaded-${args[2] ?? 'x'}.txt`);
  const r = await cli(args, { cwd, env: { NODE_OPTIONS: `--require ${PROBE}`, LEDGERFLOW_TEST_LOADED: out } });
  return { code: r.code, loaded: readFileSync(out, 'utf8').split('\n').filter(Boolean), stderr: r.stderr };
}

describe('commands on the file store', () => {
  it('load no NATS client module (run, list)', async () => {
    const cwd = tempDir();
    const store = join(cwd, 'store');
    const run = await loadedBy(
      [
        '--store',
        store,
        'run',
        BUNDLED,
        '--target_folder',
        join(SAMPLES, '0UT.3OX'),
        '--policy_file',
        join(SAMPLES, 'INVENTORY.POLICY.yaml'),
        '--json',
      ],
      cwd,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.loaded).toEqual([]);
    const list = await loadedBy(['--store', store, 'list', '--json'], cwd);
    expect(list.code, list.stderr).toBe(0);
    expect(list.loaded).toEqual([]);
  });

  it('the probe sees the client where a command does load it (so an empty list above means something)', async () => {
    const cwd = tempDir();
    // A NATS URL nothing listens on: the command loads the client, fails to connect and says so.
    const r = await loadedBy(['--nats', 'nats://127.0.0.1:1', 'list', '--json'], cwd);
    expect(r.code).not.toBe(0);
    expect(r.loaded.some((f) => f.includes('nats-core'))).toBe(true);
  });
});
