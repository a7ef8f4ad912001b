/**
 * docs/language.md#large-payloads on NATS, a person's start: `ledgerflow start <wf> --input-file big.json` as an L1 of
 * the users file, with a 24 MB input (far over the server's 1 MB max_payload). The CLI uploads the large field in
 * chunks to LF_UPLOADS under its own name and the request carries a reference; the engine reads it back, checks its
 * digest, keeps it apart in LF_BLOBS (sealed: the data key is among the secrets) and a later task reads a field of it.
 * No LF_EVENTS message is large, the upload is gone once taken, and no byte of LF_BLOBS holds the input in clear.
 * A person naming a body they did not upload (another run's digest) is refused, and nothing starts.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshRunId, requestStart } from '../../src/cluster/index.js';
import { isPayloadRef, PAYLOAD_REF_KEY } from '../../src/events/index.js';
import { runReads } from '../../src/runs/index.js';
import { jetstreamManager } from '../../src/store/index.js';
import { useUsersNats } from '../helpers/authority.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const CANARY = 'CLEAR-ROW-CANARY-';
const BIG = `workflow:
  id: big-start
  input:
    required: [doc]
  tasks:
    - { id: pick, type: SET, values: { title: "\${workflow.input.doc.title}" } }
`;

const SIGNAL = `workflow:
  id: big-signal
  payloads:
    inline_limit: 1KiB
  tasks:
    - { id: go, type: WAIT, event: go }
    - { id: pick, type: SET, depends_on: [go], values: { who: "\${go.output.signed_by}" } }
`;

const nats = useUsersNats();
const { procs, url, as } = nats;
let dir = '';
let engineLog = '';

describe.skipIf(noNats)('a person starts a run with a 24 MB input on NATS', () => {
  beforeAll(async () => {
    dir = tempDir('lf-nats-upload-');
    writeFileSync(join(dir, 'big-start.yaml'), BIG);
    writeFileSync(join(dir, 'big-signal.yaml'), SIGNAL);
    await nats.start(dir, [
      ['engine', 'L1'],
      ['bob', 'L1'],
      ['eve', 'L1'],
    ]);
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--nats', url('engine')], {
      cwd: dir,
      stdin: randomBytes(32).toString('base64'),
      env,
    });
    expect(set.code, set.stderr).toBe(0);
    expect((await as('engine', ['deploy', 'big-start.yaml'])).code).toBe(0);
    expect((await as('engine', ['deploy', 'big-signal.yaml'])).code).toBe(0);
    const engine: ChildProcess = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], {
      cwd: dir,
      env,
    });
    procs.push(engine);
    engine.stderr!.on('data', (d) => (engineLog += d));
    engine.stdout!.on('data', (d) => (engineLog += d));
    await waitFor('the engine to start', () => engineLog.includes('engine'), { timeout: 30_000 });
  }, 90_000);

  it('`start --input-file` uploads the large field; the run reads a field of it; the log stays small; LF_BLOBS holds it sealed', async () => {
    const rows = Array.from({ length: 24 * 1024 }, (_, i) => `${CANARY}${i}`.padEnd(1000, 'x'));
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ doc: { title: 'Quarterly', rows } }));
    const started = await as('bob', ['start', 'big-start', '--input-file', 'big.json', '--wait', '2m', '--json']);
    expect(started.code, `${started.stderr}\n${engineLog}`).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const admin = nats.admin();
    const done = await runReads(admin.store).wait(runId, { timeoutMs: 60_000 });
    expect(done.status, engineLog).toBe('COMPLETED');
    const events = await admin.store.read(runId);
    expect((events[0]!.data as { source?: { by?: string } }).source?.by).toBe('bob');
    const input = (events[0]!.data as { input: Record<string, unknown> }).input;
    expect(isPayloadRef(input.doc)).toBe(true);
    expect((done.tasks as Record<string, { output?: unknown }>).pick?.output).toEqual({ title: 'Quarterly' });

    const jsm = await jetstreamManager(await admin.store.connection());
    // The run's log: no message near the input's size.
    const log = await jsm.streams.info('LF_EVENTS');
    let largest = 0;
    for (let seq = log.state.first_seq; seq <= log.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('LF_EVENTS', { seq }).catch(() => null);
      if (m) largest = Math.max(largest, m.data.length);
    }
    expect(largest).toBeLessThan(64 * 1024);
    // The upload is purged once the engine answered.
    expect((await jsm.streams.info('LF_UPLOADS')).state.messages).toBe(0);
    // Every byte of the bucket: the body is there, sealed (no row in clear).
    const blobs = await jsm.streams.info('OBJ_LF_BLOBS');
    let bytes = 0;
    for (let seq = blobs.state.first_seq; seq <= blobs.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('OBJ_LF_BLOBS', { seq }).catch(() => null);
      if (!m) continue;
      bytes += m.data.length;
      expect(Buffer.from(m.data).toString('latin1').includes(CANARY)).toBe(false);
    }
    expect(bytes).toBeGreaterThan(24_000_000);

    // eve names bob's input by its digest in a start of her own: refused, never read, nothing started.
    const digest = (input.doc as { [PAYLOAD_REF_KEY]: { digest: string } })[PAYLOAD_REF_KEY];
    const stolenId = freshRunId();
    await expect(
      requestStart(
        url('eve'),
        { workflow: 'big-start', input: { doc: { [PAYLOAD_REF_KEY]: digest } }, runId: stolenId },
        10_000,
      ),
    ).rejects.toThrow(/did not upload/);
    expect(await admin.store.lastSeq(stolenId)).toBe(0);
  }, 180_000);

  it("a person's signal over the workflow's inline limit is kept apart in LF_BLOBS, sealed; the WAIT's next task reads a field of it", async () => {
    const admin = nats.admin();
    const { runId } = await admin.start('big-signal', {});
    expect((await runReads(admin.store).wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status).toBe('WAITING');
    const data = JSON.stringify({ signed_by: 'Ada', notes: `${CANARY}signal`.padEnd(50_000, 'n') });
    const signalled = await as('bob', ['signal', runId, 'go', '--data', data]);
    expect(signalled.code, `${signalled.stderr}\n${engineLog}`).toBe(0);
    const done = await runReads(admin.store).wait(runId, { timeoutMs: 30_000 });
    expect(done.status, engineLog).toBe('COMPLETED');
    const events = await admin.store.read(runId);
    const received = events.find((e) => e.type === 'signal.received')!.data as { data: unknown; by?: string };
    expect(isPayloadRef(received.data)).toBe(true);
    expect(received.by).toBe('bob');
    expect((done.tasks as Record<string, { output?: unknown }>).pick?.output).toEqual({ who: 'Ada' });
    const jsm = await jetstreamManager(await admin.store.connection());
    const blobs = await jsm.streams.info('OBJ_LF_BLOBS');
    for (let seq = blobs.state.first_seq; seq <= blobs.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('OBJ_LF_BLOBS', { seq }).catch(() => null);
      if (m) expect(Buffer.from(m.data).toString('latin1').includes(`${CANARY}signal`)).toBe(false);
    }
  }, 120_000);
});
