/**
 * What a user sees when the NATS server cannot take a deploy: a server whose
 * JetStream store is full says so in words (exit 2, no stack trace, nothing
 * recorded), and a workflow id longer than a run id is refused by `validate`
 * and `deploy` alike at its line (it used to pass validation and crash the
 * deploy). Real nats-server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { noNats, testCluster } from '../helpers/cluster.js';

const WORKFLOW = join(ROOT, 'test', 'fixtures', 'cluster.yaml');

describe.skipIf(noNats)('deploy against a full server, and ids too long to be run ids', () => {
  it('a server whose JetStream storage is full: deploy says the storage is full, exit 2, no stack trace; --json carries the code', async () => {
    const dir = tempDir('lf-full-');
    const config = join(dir, 'full.conf');
    writeFileSync(config, 'jetstream { max_memory_store: 1MB, max_file_store: 64KB }\n');
    const c = await testCluster({ config });
    const r = await cli(['--nats', c.url, 'deploy', WORKFLOW]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: the NATS server's storage is full \(JetStream: insufficient storage resources available\); nothing was recorded\. Free space on the server, or raise its JetStream limits/,
    );
    expect(r.stderr).not.toMatch(/NatsError|\n\s+at /);
    const json = await cli(['--nats', c.url, 'deploy', WORKFLOW, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'LF_NATS_STORAGE_FULL' } });
  }, 60_000);

  it('a workflow id of 100,000 characters is refused by validate and deploy at its line:col, with no stack trace', async () => {
    const dir = tempDir('lf-long-id-');
    const file = join(dir, 'long.yaml');
    writeFileSync(
      file,
      `workflow:\n  id: ${'w'.repeat(100_000)}\n  tasks:\n    - { id: a, type: SET, values: { x: 1 } }\n`,
    );
    const v = await cli(['validate', file]);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/long\.yaml:2:\d+.*a workflow id is at most 128 characters/);
    const c = await testCluster({ server: 'shared' });
    const d = await cli(['--nats', c.url, 'deploy', file]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/a workflow id is at most 128 characters/);
    expect(d.stderr).not.toMatch(/NatsError|\n\s+at /);
  }, 60_000);
});
