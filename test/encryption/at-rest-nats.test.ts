/**
 * Encryption at rest on NATS (docs/security.md#on-nats), with the page's commands: the key set in KV LF_SECRETS, an
 * engine and a worker, the page's workflow deployed and started, its signal and approval. Every message on lf.> as it
 * goes is tapped: an attempt's input and the worker's report hold no value. Then every message of every stream (the
 * run log, KV buckets: snapshots, the run index…) is read through the nats.js API, and every byte of the server's
 * store dir: no value but in the streams of what people send, which the page says are not sealed on their way. With
 * the key `history --json` shows the values; a reader without it sees `[encrypted]`, and `list` works.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { COMMENT, HANDLERS, NAME, PAYROLL_YAML, SIGNED, everyByte, leaked } from './docs-page.js';
import { encryptedStore, KeyRing } from '../../src/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';

/** The streams of what people send, which the page says is not sealed on its way (each emptied once taken). */
const NOT_SEALED_YET = /^(LF_REQUESTS|LF_SIGNALS|LF_APPROVALS|LF_DLQ.*)$/;

describe.skipIf(noNats)('encryption at rest on NATS (docs/security.md#on-nats)', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it("the page's commands: no value in the run log, the snapshots or the index; with the key the views show it, a person without it [encrypted]", async () => {
    const dir = tempDir('lf-crypt-nats-');
    writeFileSync(join(dir, 'payroll.yaml'), PAYROLL_YAML);
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    const engine = c.as('engine');
    // Nothing in the environment: the engine finds the key in KV LF_SECRETS.
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const key = randomBytes(32).toString('base64');
    const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--nats', engine], { cwd: dir, stdin: key, env });
    expect(set.code, set.stderr).toBe(0);
    for (const args of [
      // Snapshots every two events, so the snapshots' bucket holds some.
      ['engine', '--nats', engine, '--snapshot-every', '2'],
      ['worker', '--nats', c.as('worker'), '--handlers', 'handlers.mjs'],
    ]) {
      const child = spawnCli(args, { cwd: dir, env });
      procs.push(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      await waitFor(`the ${args[0]} to start`, () => out.includes(args[0] === 'engine' ? 'engine' : 'worker '), {
        timeout: 30_000,
        detail: () => out,
      });
    }
    // Every message the engine and the worker exchange, as it goes (the task queues are emptied once taken).
    const wire: { subject: string; text: string }[] = [];
    const tap = (await c.admin()).subscribe('lf.>', {
      callback: (_err, m) => {
        wire.push({ subject: m.subject, text: Buffer.from(m.data).toString('latin1') });
      },
    });
    c.defer(() => tap.unsubscribe());
    const lf = (...args: string[]) => cli([...args, '--nats', engine], { cwd: dir, env });
    expect((await lf('deploy', 'payroll.yaml')).code).toBe(0);
    const started = await lf('start', 'payroll', '--employee', NAME);
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    await waitFor(
      'the run to wait for its signal',
      async () => {
        const s = await lf('status', runId, '--json');
        return s.code === 0 && JSON.parse(s.stdout).tasks.contract?.status === 'WAITING';
      },
      { timeout: 60_000 },
    );
    expect((await lf('signal', runId, 'contract_signed', '--data', JSON.stringify({ signed_by: SIGNED }))).code).toBe(
      0,
    );
    await waitFor(
      'the approval to be asked',
      async () => {
        const s = await lf('status', runId, '--json');
        return JSON.parse(s.stdout).tasks.sign_off?.status === 'PENDING_APPROVAL';
      },
      { timeout: 60_000 },
    );
    expect((await lf('approve', runId, 'sign_off', '--comment', COMMENT)).code).toBe(0);
    const done = await lf('wait', runId, '--timeout', '60s', '--json');
    expect(JSON.parse(done.stdout).status, done.stdout + done.stderr).toBe('COMPLETED');

    const history = JSON.parse((await lf('history', runId, '--json')).stdout) as {
      type: string;
      data: Record<string, any>;
    }[];
    expect(history[0]!.data.input).toEqual({ employee: NAME });
    expect(history.find((e) => e.type === 'task.failed')!.data.error.message).toBe(`payroll system busy for ${NAME}`);
    expect(history.find((e) => e.type === 'task.completed')!.data.output).toEqual({ employee: NAME, salary: 85000 });
    expect(history.find((e) => e.type === 'signal.received')!.data.data).toEqual({ signed_by: SIGNED });
    expect(history.find((e) => e.type === 'approval.recorded')!.data.comment).toBe(COMMENT);
    expect((await lf('replay', runId)).code).toBe(0);

    // An attempt's input and a worker's report travel sealed: only what people send (a start, a signal, an approval) may be clear.
    const exchanged = wire.filter((w) => /^lf\.(q|inputs|reports|offer)\./.test(w.subject));
    const kinds = new Set(exchanged.map((w) => w.subject.split('.')[1]));
    // Attempts queued (lf.q) or offered straight to the worker (lf.offer); outcomes on LF_INPUTS or straight back (lf.reports).
    expect(kinds.has('q') || kinds.has('offer'), [...kinds].join()).toBe(true);
    expect(kinds.has('inputs') || kinds.has('reports'), [...kinds].join()).toBe(true);
    for (const w of exchanged) expect(leaked(w.text), w.subject).toBeNull();

    // A reader without the key (people's users may not read LF_SECRETS, nor use the CLI's JetStream reads: a reader
    // of the stream's own): [encrypted] for each value, the list as before.
    const blindStore = encryptedStore(new JetStreamEventStore({ servers: c.url }), new KeyRing(async () => undefined));
    c.defer(() => blindStore.close());
    const blind = await blindStore.read(runId);
    expect(leaked(JSON.stringify(blind))).toBeNull();
    expect(blind.find((e) => e.type === 'task.completed')!.data).toMatchObject({ output: '[encrypted]' });
    expect(blind.find((e) => e.type === 'run.started')!.data).toMatchObject({ input: { '[encrypted]': true } });
    expect(await blindStore.listRuns()).toEqual(
      expect.arrayContaining([expect.objectContaining({ runId, status: 'COMPLETED' })]),
    );
    const list = await lf('list', '--json');
    expect(JSON.parse(list.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ runId, status: 'COMPLETED' })]),
    );

    // Every message of every stream and bucket, read as the engine user.
    const jsm = await c.jsm();
    const clearIn = new Set<string>();
    let read = 0;
    const names: string[] = [];
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      names.push(name);
      if (name === 'KV_LF_SECRETS') continue;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!m) continue;
        read++;
        const text =
          Buffer.from(m.data).toString('latin1') +
          (m.header ? JSON.stringify([...m.header.keys()].map((k) => m.header!.get(k))) : '');
        if (leaked(text) !== null) clearIn.add(name);
      }
    }
    expect(names).toEqual(expect.arrayContaining(['LF_EVENTS', 'KV_LF_RUNS_INDEX', 'KV_LF_SNAPSHOTS']));
    expect(read).toBeGreaterThan(10);
    // And every byte of the server's store directory: a KV key's older revisions and taken messages may linger there.
    const root = c.server!.storeDir;
    for (const f of everyByte(root))
      if (leaked(f.text) !== null) clearIn.add(/\/streams\/([^/]+)\//.exec(f.file)?.[1] ?? f.file.slice(root.length));
    const stores = [...clearIn].filter((n) => !NOT_SEALED_YET.test(n));
    expect(stores, `clear values in ${[...clearIn].join(', ')}`).toEqual([]);
    if (clearIn.size > 0)
      console.log(`message streams still holding clear values (docs/security.md#on-nats): ${[...clearIn].join(', ')}`);
  }, 240_000);
});
