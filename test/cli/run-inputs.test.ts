/**
 * A person's inputs to a run (approve, reject, signal, pause, resume,
 * cancel) and emit, as a user types them, on both stores: refused
 * at once for a run or task that does not exist, with nothing written;
 * recorded at once when the sender's identity allows it and no engine runs;
 * queued ones taken by the next `resume`; the seq printed is the recording
 * event's; one `--json` shape per command whatever the store; a resume that
 * lacks a handler refused before it writes. Real CLI processes, a real nats-server.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileEventStore } from '../../src/store/index.js';
import { noNats, useCluster, type Cluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');
const WAIT = join(ROOT, 'test', 'fixtures', 'wait-signal.yaml');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');

type Logged = { seq: number; type: string; data: Record<string, unknown> }[];
/** `ledgerflow history --json`, where the shape of its output is what a test checks. */
const history = async (store: string[], runId: string) =>
  JSON.parse((await cli([...store, 'history', runId, '--json'])).stdout) as Logged;
/**
 * The events of a run, read here rather than by a `history` process: what a test checks with it (how many
 * events, the type of the one a command printed) is the log's, which `history --json` prints as it is.
 */
const fileLog = (dir: string, runId: string) => new FileEventStore(dir).read(runId) as Promise<Logged>;
const natsLog = (c: Cluster, runId: string) => c.client.store.read(runId) as Promise<Logged>;
const keys = (text: string) => Object.keys(JSON.parse(text)).sort();

describe('run inputs on the embedded store', () => {
  it('approve of a task the run does not have is refused (exit 2) with nothing written', async () => {
    const dir = tempDir();
    const store = ['--store', dir];
    const { runId } = JSON.parse((await cli([...store, 'run', APPROVAL, '--json'])).stdout);
    const before = (await fileLog(dir, runId)).length;
    const typo = await cli([...store, 'approve', runId, 'sign_of', '--as', 'alice']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/the run has no task "sign_of"; its HUMAN tasks are sign_off; nothing was recorded/);
    expect((await fileLog(dir, runId)).length).toBe(before);
  });

  it('approve and signal move the run on here when nothing else holds it: one step, no resume', async () => {
    const dir = tempDir();
    const store = ['--store', dir];
    const { runId } = JSON.parse((await cli([...store, 'run', APPROVAL, '--json'])).stdout);
    const approved = await cli([...store, 'approve', runId, 'sign_off', '--as', 'alice', '--json']);
    expect(approved.code).toBe(0);
    const out = JSON.parse(approved.stdout);
    expect(out).toMatchObject({
      runId,
      task: 'sign_off',
      decision: 'approved',
      by: 'alice',
      recorded: true,
      queued: false,
      status: 'COMPLETED',
    });
    expect((await fileLog(dir, runId)).find((e) => e.seq === out.seq)?.type).toBe('approval.recorded');

    const waiting = JSON.parse((await cli([...store, 'run', WAIT, '--json'])).stdout);
    const signalled = await cli([...store, 'signal', waiting.runId, 'go_ahead', '--data', '{"ok":true}']);
    expect(signalled.code).toBe(0);
    expect(signalled.stdout).toMatch(/✓ signal go_ahead recorded for run \S+ as \S+ \(event \d+\)/);
    expect(JSON.parse((await cli([...store, 'status', waiting.runId, '--json'])).stdout).status).toBe('COMPLETED');
  });
});

describe.skipIf(noNats)('run inputs over NATS', () => {
  const nats = useCluster();
  const on = () => ['--nats', nats.url];

  it('with no engine: an unknown run is refused at once (exit 2); a signal is recorded at once; queued inputs are taken by resume', async () => {
    for (const args of [
      ['signal', 'no-such-run', 'go_ahead'],
      ['pause', 'no-such-run'],
      ['cancel', 'no-such-run'],
      ['approve', 'no-such-run', 'sign_off'],
    ]) {
      const started = Date.now();
      const r = await cli([...on(), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/run no-such-run does not exist/);
      expect(Date.now() - started).toBeLessThan(8000);
    }
    const waiting = JSON.parse((await cli([...on(), 'run', WAIT, '--json'])).stdout);
    const signalled = await cli([...on(), 'signal', waiting.runId, 'go_ahead', '--as', 'ops', '--json']);
    expect(signalled.code).toBe(0);
    const sig = JSON.parse(signalled.stdout);
    expect(sig).toMatchObject({ by: 'ops', unauthenticated: true, recorded: true, queued: false });
    expect((await natsLog(nats, waiting.runId)).find((e) => e.seq === sig.seq)).toMatchObject({
      type: 'signal.received',
    });

    // As a proven user the approval is queued (no engine to judge it), and the next resume takes it.
    const { runId } = JSON.parse((await cli([...on(), 'run', APPROVAL, '--json'])).stdout);
    const queued = await cli(['--nats', nats.as('alice'), 'approve', runId, 'sign_off', '--wait', '300ms', '--json']);
    expect(queued.code).toBe(3);
    expect(JSON.parse(queued.stdout)).toMatchObject({ by: 'alice', recorded: false, queued: true });
    const resumed = await cli([...on(), 'resume', runId, '--handlers', HANDLERS, '--json']);
    expect(resumed.stderr).toMatch(/took the queued approval of sign_off by alice/);
    expect(JSON.parse(resumed.stdout).status).toBe('COMPLETED');
    expect((await natsLog(nats, runId)).find((e) => e.type === 'approval.recorded')?.data).toMatchObject({
      by: 'alice',
    });
  }, 60_000);

  it('resume without the handler a task needs is refused before anything is written (a run started with `start`)', async () => {
    expect((await cli([...on(), 'deploy', APPROVAL])).code).toBe(0);
    const runId = (await cli([...on(), 'start', 'approval'])).stdout.trim();
    expect((await cli([...on(), 'resume', runId, '--handlers', HANDLERS])).code).toBe(3);
    expect((await cli([...on(), 'approve', runId, 'sign_off', '--as', 'bob'])).code).toBe(0);
    const before = await natsLog(nats, runId);
    const lacking = await cli([...on(), 'resume', runId]);
    expect(lacking.code).toBe(2);
    expect(lacking.stderr).toMatch(
      /needs a handler for task last \(named "last"\), which this process was not given; nothing was recorded.*--handlers <module>/,
    );
    const after = await natsLog(nats, runId);
    expect(after.length).toBe(before.length);
    expect(after.some((e) => e.type === 'task.failed')).toBe(false);
    expect(JSON.parse((await cli([...on(), 'resume', runId, '--handlers', HANDLERS, '--json'])).stdout).status).toBe(
      'COMPLETED',
    );
  }, 60_000);

  it("with an engine: a typo in the task is refused with no event appended, and the seq printed is the approval's", async () => {
    const engine = spawnCli([...on(), 'engine', '--handlers', HANDLERS]);
    try {
      const alice = nats.as('alice');
      const runId = (await cli([...on(), 'start', 'approval'])).stdout.trim();
      // Read here while the engine gets there, not by a `status` process every few milliseconds.
      await waitFor('the run waits for sign-off', async () => (await nats.runs.status(runId))?.status === 'WAITING', {
        timeout: 20_000,
        interval: 100,
      });
      const before = (await natsLog(nats, runId)).length;
      const typo = await cli(['--nats', alice, 'approve', runId, 'sign_of']);
      expect(typo.code).toBe(2);
      expect(typo.stderr).toMatch(/the run has no task "sign_of"; its HUMAN tasks are sign_off; nothing was recorded/);
      expect((await natsLog(nats, runId)).length).toBe(before);

      const ok = await cli(['--nats', alice, 'approve', runId, 'sign_off']);
      expect(ok.code).toBe(0);
      const seq = Number(/\(event (\d+)\)/.exec(ok.stdout)?.[1]);
      expect((await natsLog(nats, runId)).find((e) => e.seq === seq)?.type).toBe('approval.recorded');
    } finally {
      engine.kill('SIGTERM');
      await new Promise((r) => engine.on('close', r));
    }
  }, 60_000);

  it('a repeated emit --id is a duplicate, said at once', async () => {
    const args = [...on(), 'emit', 'lead_qualification', '--sample', '--id', 'dup-1', '--wait', '0'];
    expect((await cli(args)).code).toBe(0);
    const started = Date.now();
    const again = await cli([...args.slice(0, -2), '--wait', '10s']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/event dup-1 was already published .*a duplicate, nothing started again/);
    expect(Date.now() - started).toBeLessThan(8000);
  }, 30_000);

  it('--json has one shape per command on both stores', async () => {
    const file = ['--store', tempDir()];
    const shapes = async (store: string[]) => {
      const out: Record<string, string[]> = {};
      const a = JSON.parse((await cli([...store, 'run', APPROVAL, '--json'])).stdout).runId;
      out.approve = keys((await cli([...store, 'reject', a, 'sign_off', '--as', 'alice', '--json'])).stdout);
      out.status = keys((await cli([...store, 'status', a, '--json'])).stdout);
      out.history = Object.keys((await history(store, a))[0]!).sort();
      const w = JSON.parse((await cli([...store, 'run', WAIT, '--json'])).stdout).runId;
      out.pause = keys((await cli([...store, 'pause', w, '--json'])).stdout);
      out.resume = keys((await cli([...store, 'resume', w, '--handlers', HANDLERS, '--json'])).stdout);
      out.signal = keys((await cli([...store, 'signal', w, 'go_ahead', '--handlers', HANDLERS, '--json'])).stdout);
      const c = JSON.parse((await cli([...store, 'run', APPROVAL, '--json'])).stdout).runId;
      out.cancel = keys((await cli([...store, 'cancel', c, '--json'])).stdout);
      out.emit = keys(
        (
          await cli([...store, 'emit', 'lead_qualification', '--sample', '--json', '--max-wait', '0', '--wait', '0'], {
            cwd: tempDir(),
          })
        ).stdout,
      );
      return out;
    };
    // The two stores are asked side by side (each sequence of commands is its own).
    const [embedded, overNats] = await Promise.all([shapes(file), shapes(on())]);
    expect(overNats).toEqual(embedded);
  }, 90_000);
});
