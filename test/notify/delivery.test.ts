/**
 * Notifications delivered by whoever drives a run on the embedded store: a
 * webhook gets one POST per notification, noted in the run's history; a
 * webhook that never answers is tried again with backoff and dead-lettered
 * while the run settles on time; a `ledgerflow run` killed between the
 * commit and the delivery leaves it to `ledgerflow resume`. A real local
 * HTTP server, real processes for the crash.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { DEFAULT_DELIVERY, Notifier, webhookKey } from '../../src/notify/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { Engine } from '../../src/local/index.js';
import { Service } from '../../src/service/index.js';
import { FileEventStore, MemoryEventStore } from '../../src/store/index.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

let server: Server;
let base = '';
const received: Received[] = [];
const sockets = new Set<Socket>();
/** Whether /later answers yet (the crash test turns it on). */
let laterAnswers = false;
/** The first request to /held-once, held until the test answers it; later ones are answered at once. */
const held: ServerResponse[] = [];
let heldOnce = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString('utf8');
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) as unknown });
      // /silent and /later (until told): accept the request and never answer.
      if (req.url === '/silent' || (req.url === '/later' && !laterAnswers)) return;
      if (req.url === '/held-once' && !heldOnce) {
        heldOnce = true;
        held.push(res);
        return;
      }
      res.writeHead(204).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const failing = (path: string) =>
  def(`
workflow:
  id: notify-failing
  notifications:
    - on: [FAILED]
      webhook: ${base}${path}
      headers: { X-Team: ops }
  tasks:
    - { id: charge, type: SIMPLE }
`);
const handlers = {
  charge: async () => {
    throw new Error('card declined');
  },
};
const requestsTo = (path: string) => received.filter((r) => r.path === path);
const fast = { ...DEFAULT_DELIVERY, attempts: 3, backoffMs: 20, maxBackoffMs: 40, timeoutMs: 150 };
// For the tests that count one delivery: an answering webhook on a loaded machine can take longer
// than 150 ms, which would be a second attempt; only the silent webhook's test needs the short timeout.
const patient = { ...fast, timeoutMs: 10_000 };

describe('notifications on the embedded store', () => {
  it('a run that fails POSTs one JSON body to the webhook (Idempotency-Key: its id) and notes notification.sent', async () => {
    const store = new MemoryEventStore();
    const notifier = new Notifier({ store, config: { rules: [], delivery: patient } });
    const engine = new Engine({ store, onCommit: notifier.onCommit });
    const view = await engine.run(failing('/ok'), {}, { handlers });
    expect(view.status).toBe('FAILED');
    await notifier.idle();
    const events = await store.read(view.runId);
    const failed = events.find((e) => e.state.status === 'FAILED')!;
    const id = `${view.runId}/${failed.seq}/FAILED`;
    expect(requestsTo('/ok')).toHaveLength(1);
    const [req] = requestsTo('/ok');
    expect(req!.body).toEqual({
      id,
      runId: view.runId,
      workflowId: 'notify-failing',
      version: 1,
      status: 'FAILED',
      seq: failed.seq,
      time: failed.time,
    });
    expect(req!.headers).toMatchObject({ 'idempotency-key': id, 'content-type': 'application/json', 'x-team': 'ops' });
    const note = events.at(-1)!;
    expect(note).toMatchObject({
      type: 'notification.sent',
      state: failed.state,
      data: {
        id,
        on: 'FAILED',
        seq: failed.seq,
        target: webhookKey(`${base}/ok`),
        attempts: 1,
        statusCode: 204,
        stateTime: failed.time,
      },
    });
    expect(replayRun(events).divergence).toBeNull();
  });

  it('a webhook that never answers is tried again with backoff, then dead-lettered; the run settled on time, unaffected', async () => {
    const store = new MemoryEventStore();
    const notifier = new Notifier({ store, config: { rules: [], delivery: fast } });
    const engine = new Engine({ store, onCommit: notifier.onCommit });
    const view = await engine.run(failing('/silent'), {}, { handlers });
    // The run's outcome is there while its notification is still being tried.
    expect(view.status).toBe('FAILED');
    expect(notifier.pending).toBe(1);
    await notifier.idle();
    expect(requestsTo('/silent')).toHaveLength(3);
    const events = await store.read(view.runId);
    const failed = events.find((e) => e.state.status === 'FAILED')!;
    const note = events.at(-1)! as Extract<EventEnvelope, { type: 'notification.dead_lettered' }>;
    expect(note).toMatchObject({
      type: 'notification.dead_lettered',
      state: failed.state,
      data: { on: 'FAILED', attempts: 3, stateTime: failed.time },
    });
    expect(note.data.error).toMatch(/no answer within 150 ms/);
    // Tried three times, waiting 20 then 40 ms between: the note comes well after the run settled...
    expect(Date.parse(note.time) - Date.parse(failed.time)).toBeGreaterThanOrEqual(3 * 150 + 20 + 40 - 30);
    // ...and the run keeps the time it settled at, in its summary and its state.
    const [summary] = await store.listRuns();
    expect(summary).toMatchObject({ status: 'FAILED', completedAt: failed.time, lastSeq: note.seq });
    expect((await engine.status(view.runId)).completedAt).toBe(failed.time);
    expect(replayRun(events).divergence).toBeNull();
  });

  it('a WAITING body names the tasks waiting and for whom (approvers, signal), the same when the next driver delivers it from the history; each note is told to onNoted', async () => {
    const store = new MemoryEventStore();
    const noted: EventEnvelope[] = [];
    const notifier = new Notifier({
      store,
      config: { rules: [], delivery: patient },
      onNoted: (evs) => noted.push(...evs),
    });
    const engine = new Engine({ store, onCommit: notifier.onCommit });
    const gate = def(`
workflow:
  id: notify-waiting
  notifications:
    - on: [WAITING]
      webhook: ${base}/waiting
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: sign_off, type: HUMAN, depends_on: [prepare], approvers: [alice, bob] }
    - { id: hold, type: WAIT, depends_on: [prepare], event: goods_received }
    - { id: anyone, type: HUMAN, depends_on: [prepare] }
`);
    const view = await engine.run(gate, {}, { handlers: { prepare: async () => ({}) } });
    expect(view.status).toBe('WAITING');
    await notifier.idle();
    const waiting = [
      { task: 'sign_off', approvers: ['alice', 'bob'] },
      { task: 'hold', signal: 'goods_received' },
      { task: 'anyone', approvers: [] },
    ];
    const [post] = requestsTo('/waiting');
    expect(post!.body).toMatchObject({ runId: view.runId, status: 'WAITING', waiting });
    const events = await store.read(view.runId);
    const note = events.at(-1)!;
    expect(note.type).toBe('notification.sent');
    expect(noted).toEqual([note]);

    // Read back from the history with no note (as after a crash): the same body, folded from the log.
    const later = new Notifier({ store: new MemoryEventStore(), config: { rules: [], delivery: patient } });
    expect(later.catchUp(events.slice(0, -1)).started).toBe(1);
    await later.idle();
    expect(requestsTo('/waiting')[1]!.body).toEqual(post!.body);

    // A run that waits from its start commit notifies too (the status before run.started is none, not the one it made).
    const first = await engine.run(
      def(`
workflow:
  id: notify-waiting-at-once
  notifications:
    - on: [WAITING]
      webhook: ${base}/waiting
  tasks:
    - { id: budget, type: HUMAN, approvers: [cfo] }
`),
      {},
      { handlers: {} },
    );
    expect(first.status).toBe('WAITING');
    await notifier.idle();
    expect(requestsTo('/waiting').map((r) => r.body)).toContainEqual(
      expect.objectContaining({ runId: first.runId, seq: 1, waiting: [{ task: 'budget', approvers: ['cfo'] }] }),
    );
  });

  it('a run killed between its commit and the delivery is delivered by the next driver (resume), once noted', async () => {
    const dir = tempDir('lf-notify-');
    const file = join(dir, 'wf.yaml');
    writeFileSync(
      join(dir, 'h.mjs'),
      "export default { charge: async () => { throw new Error('card declined'); } };\n",
    );
    writeFileSync(
      file,
      `workflow:
  id: notify-crash
  handlers: ./h.mjs
  notifications:
    - on: FAILED
      webhook: ${base}/later
  tasks:
    - { id: charge, type: SIMPLE }
`,
    );
    const store = join(dir, 'store');
    const run = spawnCli(['--store', store, 'run', file]);
    let out = '';
    run.stdout!.on('data', (d) => {
      out += d;
    });
    // The webhook holds the POST: the run is FAILED in the log, its notification not noted. Then the process dies.
    await waitFor("the run's POST", () => requestsTo('/later').length === 1, { timeout: 20_000 });
    const exited = new Promise((r) => run.once('exit', r));
    run.kill('SIGKILL');
    await exited;
    const runId = /run (\S+) started/.exec(out)?.[1];
    expect(runId).toBeDefined();
    const files = new FileEventStore(store);
    const before = await files.read(runId!);
    expect(before.at(-1)!.state.status).toBe('FAILED');
    expect(before.some((e) => e.type.startsWith('notification.'))).toBe(false);
    laterAnswers = true;
    const resumed = await cli(['--store', store, 'resume', runId!]);
    expect(resumed.stdout).toMatch(/already FAILED/);
    // Delivered again under the same id: the receiver can tell it is the same notification.
    const posts = requestsTo('/later');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.headers['idempotency-key']).toBe(posts[0]!.headers['idempotency-key']);
    const after = await files.read(runId!);
    expect(after.filter((e) => e.type === 'notification.sent').map((e) => e.data)).toEqual([
      expect.objectContaining({ id: posts[0]!.headers['idempotency-key'], on: 'FAILED', attempts: 1, statusCode: 204 }),
    ]);
    // A second resume owes nothing.
    await cli(['--store', store, 'resume', runId!]);
    expect(requestsTo('/later')).toHaveLength(2);
    await files.close();
  }, 60_000);
  it('a serve on the store leaves the notifications of a run `ledgerflow run` settled to it: its lease is held until they are noted, each is sent once', async () => {
    const dir = tempDir('lf-notify-serve-');
    const file = join(dir, 'wf.yaml');
    writeFileSync(
      join(dir, 'h.mjs'),
      "export default { charge: async () => { throw new Error('card declined'); } };\n",
    );
    writeFileSync(
      file,
      `workflow:
  id: notify-served
  handlers: ./h.mjs
  notifications:
    - on: FAILED
      webhook: ${base}/held-once
  tasks:
    - { id: charge, type: SIMPLE }
`,
    );
    const storeDir = join(dir, 'store');
    const run = spawnCli(['--store', storeDir, 'run', file]);
    let out = '';
    run.stdout!.on('data', (d) => {
      out += d;
    });
    const exited = new Promise((r) => run.once('exit', r));
    // The run is FAILED in the log and its POST held: its history does not note the delivery yet.
    await waitFor("the run's POST", () => requestsTo('/held-once').length === 1, { timeout: 20_000 });
    const runId = /run (\S+) started/.exec(out)?.[1];
    expect(runId).toBeDefined();
    const store = new FileEventStore(storeDir);
    const notifier = new Notifier({ store, config: { rules: [], delivery: patient } });
    const engine = new Engine({ store, onCommit: notifier.onCommit });
    const looked: string[] = [];
    const caughtUp: string[] = [];
    const load = engine.load.bind(engine);
    engine.load = async (id) => {
      looked.push(id);
      return load(id);
    };
    const service = new Service({
      engine,
      storeDir,
      handlers: {},
      rescanMs: 20,
      notifier: {
        catchUp: (history) => {
          caughtUp.push(history[0]!.runId);
          return notifier.catchUp(history);
        },
      },
    });
    try {
      expect(await service.start()).toBe(true);
      // serve looks at the settled run while the CLI still delivers: the run is still leased, so it leaves it.
      await waitFor('serve looking at the settled run', () => looked.includes(runId!));
      held.shift()!.writeHead(204).end();
      await exited;
      expect(run.exitCode).toBe(1);
      // Once the CLI has released the run, serve reads it again: nothing is owed any more.
      await waitFor('serve reading the released run again', () => caughtUp.includes(runId!), { timeout: 10_000 });
      await notifier.idle();
    } finally {
      await service.stop();
    }
    expect(requestsTo('/held-once')).toHaveLength(1);
    const events = await store.read(runId!);
    expect(events.filter((e) => e.type === 'notification.sent')).toHaveLength(1);
    await store.close();
  }, 60_000);
});
