/**
 * Clear errors instead of stack traces: a store path that is a
 * file, a cache the disk will not take (a read goes on), a run whose first
 * write the disk refuses (nothing left behind, exit 2), and `ui` on a host it
 * cannot listen on (refused before it opens the store). Write failures are
 * injected into the CLI with test/helpers/fail-writes.mjs.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';

const FAIL_WRITES = join(ROOT, 'test', 'helpers', 'fail-writes.mjs');
const failing = (files: string) => ({ NODE_OPTIONS: `--import ${FAIL_WRITES}`, LF_FAIL_WRITES: files });
const STACK = /^\s+at /m;

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

function definition(dir: string): string {
  const file = join(dir, 'wait.yaml');
  writeFileSync(
    file,
    `workflow:
  id: wait-for-cfo
  name: Wait for the cfo
  version: 1
  tasks:
    - id: sign_off
      type: HUMAN
      approvers: [cfo]
`,
  );
  return file;
}

describe('a store path that is a file', () => {
  it('list, status and run: exit 2 naming the path and the fix, no stack trace', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    for (const args of [
      ['--store', file, 'list'],
      ['--store', file, 'status', 'r1'],
      ['--store', file, 'run', definition(dir)],
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--store ${file} is a file, not a directory`);
      expect(r.stderr).toMatch(/pass one, e\.g\. --store \.ledgerflow/);
      expect(r.stderr).not.toMatch(STACK);
    }
    const under = await cli(['list'], { env: { LEDGERFLOW_STORE: join(file, 'store') } });
    expect(under.code).toBe(2);
    expect(under.stderr).toContain(`LEDGERFLOW_STORE ${join(file, 'store')} is under a file, not a directory`);
  });
});

describe('a run index cache the disk will not take', () => {
  it('list warns once on stderr and lists the runs (exit 0), leaving no partial cache; reindex, whose job it is, fails with exit 2', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const run = await cli(['--store', store, 'run', definition(dir), '--json']);
    expect(run.code, run.stderr).toBe(3);
    const { runId } = JSON.parse(run.stdout) as { runId: string };

    const list = await cli(['--store', store, 'list'], { env: failing('runs\\.json') });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(runId);
    const warnings = list.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /cannot write its cache .*runs\.jsonl: the disk is full: free space on it.*\(ENOSPC\); the runs are read from their logs instead/,
    );
    expect(list.stderr).not.toMatch(STACK);
    expect(readdirSync(join(store, 'index'))).toEqual([]);

    const json = await cli(['--store', store, 'list', '--json'], { env: failing('runs\\.json') });
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { runId: string }[]).map((r) => r.runId)).toEqual([runId]);

    const reindex = await cli(['--store', store, 'reindex'], { env: failing('runs\\.json') });
    expect(reindex.code).toBe(2);
    expect(reindex.stderr).toMatch(/error: the run index was not rebuilt: .*the disk is full/);
    expect(reindex.stderr).not.toMatch(STACK);
  });
});

describe('a run whose first write the disk refuses', () => {
  for (const [what, files] of [
    ['its log', '\\.jsonl$'],
    // A lock's bytes are written under a name of its own, then linked to the lock's name (store/lock.ts).
    ['its lock', '\\.(lock|driver)(\\.new-\\d+-[0-9a-f]+)?$'],
  ] as const) {
    it(`(${what}) exits 2 with the full disk and the fix, and leaves no file behind: list shows nothing, a later run starts cleanly`, async () => {
      const dir = tempDir();
      const store = join(dir, 'store');
      const run = await cli(['--store', store, 'run', definition(dir)], { env: failing(files) });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(
        /error: cannot (append to|create lock) .*: the disk is full: free space on it, or point --store \(LEDGERFLOW_STORE\) at a directory on another disk \(ENOSPC\)/,
      );
      expect(run.stderr).not.toMatch(STACK);
      expect(readdirSync(join(store, 'runs'))).toEqual([]);
      const list = await cli(['--store', store, 'list', '--json']);
      expect(JSON.parse(list.stdout)).toEqual([]);
      expect((await cli(['--store', store, 'run', definition(dir)])).code).toBe(3);
    });
  }
});

describe('ledgerflow ui on a host or port it cannot listen on', () => {
  let busy: Server | undefined;
  afterAll(() => {
    busy?.close();
  });

  it('a host that is no address: exit 2 naming it and the fix, before the store is opened', async () => {
    const store = join(tempDir(), 'store');
    const r = await cli(['--store', store, 'ui', '--host', '0.0.0.0x', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--host 0\.0\.0\.0x is not an address and no host of that name resolves: pass an IP address of this machine/,
    );
    expect(r.stderr).not.toMatch(STACK);
    expect(existsSync(store)).toBe(false);
  });

  it('a port in use: exit 2 naming it, before the store is opened', async () => {
    busy = createServer();
    const port = await new Promise<number>((res) =>
      busy!.listen(0, '127.0.0.1', () => res((busy!.address() as { port: number }).port)),
    );
    const store = join(tempDir(), 'store');
    const r = await cli(['--store', store, 'ui', '--port', String(port)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--port ${port} is in use on 127.0.0.1`);
    expect(existsSync(store)).toBe(false);
  });
});
