/**
 * `ledgerflow reindex` on NATS reads the log in fetches of bounded size (src/store/jetstream/scan.ts). nats-server holds
 * what it has sent a client and the client not yet read up to the client's `max_pending`, then closes the connection
 * as a slow consumer: reindex of 100,000 runs on a loaded machine died with "closed connection" when one fetch asked
 * for 10,000 first commits (3 KB each). Here the server allows 9 MB pending (the least a server whose max_payload is
 * 8 MB takes) and holds 20,000 runs, 57 MB of log: a read of 10,000 messages at once failed on every try.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';
import { NATS_CONF, NATS_DEV_CONF, startNatsServer, type NatsServer } from '../helpers/nats.js';

const RUNS = 20_000;
const HISTORY = new URL(
  '../fixtures/histories/folder-report/classify-default-to-note_stocked-ok.jsonl',
  import.meta.url,
);

describe.skipIf(noNats)(`reindex of ${RUNS.toLocaleString('en')} runs on a server that holds 9 MB for a reader`, () => {
  let server: NatsServer;
  let dir = '';
  beforeAll(async () => {
    dir = tempDir('lf-reindex-bounded-');
    // The repository's dev config (its users, JetStream) with one line more, as an operator would write it.
    copyFileSync(NATS_CONF, join(dir, 'nats.conf'));
    copyFileSync(NATS_DEV_CONF, join(dir, 'nats-dev.conf'));
    writeFileSync(join(dir, 'tight.conf'), 'include ./nats-dev.conf\nmax_pending: 9MB\n');
    server = await startNatsServer({ config: join(dir, 'tight.conf') });
    const events = readFileSync(HISTORY, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
    const template = JSON.stringify(events);
    const store = new JetStreamEventStore({ servers: server.url });
    try {
      for (let i = 0; i < RUNS; i += 500)
        await Promise.all(
          Array.from({ length: Math.min(500, RUNS - i) }, (_, k) => {
            const runId = `r${String(i + k).padStart(5, '0')}`;
            const own = JSON.parse(template.split('lf-path').join(runId)) as EventEnvelope[];
            return store.append({ runId, expectedSeq: 0, dedupId: `${runId}/all`, events: own });
          }),
        );
    } finally {
      await store.close();
    }
  }, 120_000);
  afterAll(async () => {
    await server?.dispose();
  });

  it('rebuilds the index of every run, and stats then counts them all', async () => {
    const rebuilt = await cli(['--nats', server.url, 'reindex', '--json'], { cwd: dir });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ index: 'LF_RUNS_INDEX', runs: RUNS, corrupt: [] });
    const stats = await cli(['--nats', server.url, 'stats', 'folder-report', '--json'], { cwd: dir });
    expect(stats.code, stats.stderr).toBe(0);
    expect((JSON.parse(stats.stdout) as { runs: { total: number } }).runs.total).toBe(RUNS);
  }, 120_000);
});
