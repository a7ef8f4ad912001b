/**
 * `ledgerflow dlq list|show|replay|purge` as a user calls them, against a real
 * nats-server and engine: an approval sent before its run existed is
 * dead-lettered, and replayed once the run exists it is recorded; a 7.5 MB
 * event is kept only as an excerpt, so its replay is refused; purge deletes
 * only with --yes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine, subjects } from '../../src/cluster/index.js';
import { loadEventTypes, runIdForEvent } from '../../src/triggers/index.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

const skipReason = inject('natsSkipReason');

const WORKFLOW = `
workflow:
  id: dlq-replay
  name: A revenue milestone, signed by alice
  version: 1
  triggers:
    - event: revenue_milestone
      input: {}
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`;
const SAMPLE = { month: '2026-10', revenue: 1250000, target: 1000000, currency: 'EUR', region: 'EMEA', operating_costs: 900000 };

describe.skipIf(!!skipReason)('ledgerflow dlq', () => {
  let server: NatsServer;
  let engine: ClusterEngine;
  let admin: NatsConnection;
  const as = (user: string) => server.url.replace('nats://', `nats://${user}:${user}-dev-password@`);
  const lf = (...args: string[]) => cli(['--nats', server.url, ...args]);

  beforeAll(async () => {
    server = await startNatsServer();
    engine = new ClusterEngine({ nats: server.url, eventTypes: loadEventTypes(join(ROOT, 'events')) });
    await engine.start();
    admin = await connect({ servers: server.url });
  }, 30_000);

  afterAll(async () => {
    await admin?.close();
    await engine?.stop();
    await server?.dispose();
  });

  it('lists, shows and replays an approval dead-lettered before its run existed: replayed, it is recorded', async () => {
    const file = join(tempDir(), 'dlq-replay.yaml');
    writeFileSync(file, WORKFLOW);
    expect((await lf('deploy', file)).code).toBe(0);
    // The run an event starts has an id known in advance: alice approves before the event is sent.
    const runId = runIdForEvent('milestone-1', 'dlq-replay');
    const early = await cli(['--nats', as('alice'), 'approve', runId, 'sign', '--comment', 'ok']);
    expect(early.code).toBe(2);

    const listed = await lf('dlq', 'list', '--json');
    expect(listed.code).toBe(0);
    const [entry] = JSON.parse(listed.stdout);
    expect(entry).toMatchObject({ kind: 'approvals', replayable: true, letter: { runId, taskId: 'sign', by: 'alice', reason: expect.stringMatching(/does not exist/), source: { subject: subjects.approval(runId, 'sign', 'alice') } } });
    const text = await lf('dlq', 'list');
    expect(text.stdout).toMatch(new RegExp(`^\\s+${entry.seq}  approvals .* replayable`, 'm'));
    expect(text.stdout).toContain('1 dead letter (1 replayable)');

    const shown = await lf('dlq', 'show', String(entry.seq));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`from:    LF_APPROVALS message ${entry.letter.source.seq} on ${subjects.approval(runId, 'sign', 'alice')}, delivered 1 time`);
    expect(shown.stdout).toContain('replay:  yes');
    expect(shown.stdout).toContain('{"decision":"approved","comment":"ok"}');

    // Now the run exists, waiting for alice.
    const emitted = await lf('emit', 'revenue_milestone', '--id', 'milestone-1', '--data', JSON.stringify(SAMPLE));
    expect(emitted.code).toBe(0);
    const client = new ClusterClient(server.url);
    try {
      expect((await client.wait(runId, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');
      const replayed = await lf('dlq', 'replay', String(entry.seq));
      expect(replayed.stderr).toBe('');
      expect(replayed.code).toBe(0);
      expect(replayed.stdout).toContain(`replayed dead letter ${entry.seq}: published again on ${subjects.approval(runId, 'sign', 'alice')}`);
      const done = await client.wait(runId, { timeoutMs: 15_000 });
      expect(done.status).toBe('COMPLETED');
      expect(done.tasks.sign!.output).toMatchObject({ by: 'alice', comment: 'ok' });
    } finally {
      await client.close();
    }
    // Replayed means gone from the dead letters; a second replay finds nothing (exit 2).
    expect(JSON.parse((await lf('dlq', 'list', '--json')).stdout)).toEqual([]);
    const again = await lf('dlq', 'replay', String(entry.seq));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/LF_DLQ holds no dead letter \d+/);
  }, 60_000);

  it('refuses to replay a dead letter whose body was not kept, and purges only with --yes', async () => {
    const filler = 'she said "no" ';
    const body = JSON.stringify({ id: 'huge-1', type: 'revenue_milestone', time: new Date().toISOString(), data: { notes: filler.repeat(Math.floor(7.5 * 1024 * 1024 / 16)) } });
    await admin.jetstream().publish(subjects.trigger('revenue_milestone'), new TextEncoder().encode(body));
    await waitFor('the event in lf.dlq.triggers', async () => (await deadLetters(await admin.jetstreamManager(), 'triggers')).length > 0, { timeout: 20_000 });
    const entries = JSON.parse((await lf('dlq', 'list', '--kind', 'triggers', '--json')).stdout);
    expect(entries).toHaveLength(1);
    const [big] = entries as { seq: number }[];
    expect(big).toMatchObject({ kind: 'triggers', replayable: false, notReplayable: expect.stringMatching(/was not kept/) });

    const shown = await lf('dlq', 'show', String(big!.seq));
    expect(shown.stdout).toMatch(/body:    \d+ bytes, sha256 [0-9a-f]{64}/);
    expect(shown.stdout).toMatch(/body \(first 4096 bytes, truncated\):\n\{"id":"huge-1"/);

    const refused = await lf('dlq', 'replay', String(big!.seq));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/dead letter \d+ cannot be replayed: its body \(\d+ bytes\) was not kept, only an excerpt/);
    const all = await lf('dlq', 'replay', '--all', '--json');
    expect(all.code).toBe(2);
    expect(JSON.parse(all.stdout)).toMatchObject({ replayed: [], refused: [{ seq: big!.seq }] });

    const noYes = await lf('dlq', 'purge');
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/would delete 1 dead letters from LF_DLQ; nothing deleted: pass --yes/);
    expect(JSON.parse((await lf('dlq', 'list', '--json')).stdout)).toHaveLength(1);
    const badKind = await lf('dlq', 'purge', '--kind', 'nonsense', '--yes');
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toMatch(/--kind nonsense is not a kind of dead letter; use one of inputs, timers, approvals, triggers, tasks/);
    const purged = await lf('dlq', 'purge', '--kind', 'triggers', '--yes', '--json');
    expect(purged.code).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ purged: 1, kind: 'triggers' });
    expect(JSON.parse((await lf('dlq', 'list', '--json')).stdout)).toEqual([]);
    expect((await lf('dlq', 'show', 'x')).code).toBe(2);
  }, 60_000);
});
