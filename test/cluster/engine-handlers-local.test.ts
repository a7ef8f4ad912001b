/**
 * `ledgerflow engine --handlers` runs the attempts it starts in process and commits their outcomes itself
 * (docs/nats.md#engines-that-run-the-handlers; src/cluster/engine/local-attempts.ts), with the real CLI's processes on
 * a real nats-server:
 *
 * - nothing of the worker protocol crosses NATS for them: no offer on lf.offer.>, no report on lf.reports.>;
 * - the engine SIGKILLed while its handler runs: another `engine --handlers` started after takes the run over (the
 *   message the first held comes back to it), runs the attempt again as task.restarted, and finishes the run, every
 *   task completed once, as reported by `engine`;
 * - a retry after a failure and an attempt's timeout record the same events as the engine and remote worker
 *   processes record for the same workflow.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const KILL_YAML = `workflow:
  id: local-takeover
  version: 1
  tasks:
    - { id: fetch, type: SIMPLE, handler: fetch }
    - { id: hold, type: SIMPLE, handler: hold, depends_on: [fetch], input: { n: "\${fetch.output.n}" } }
    - { id: store, type: SIMPLE, handler: store, depends_on: [hold], input: { held: "\${hold.output.held}" } }
`;

const RETRY_YAML = `workflow:
  id: local-retries
  version: 1
  tasks:
    - id: flaky
      type: SIMPLE
      handler: flaky
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 200ms }
    - id: slow
      type: SIMPLE
      handler: slow
      depends_on: [flaky]
      timeout: 1s
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 200ms }
`;

// Each call marks "<task> <attempt> <pid> start" in LF_MARKERS; `hold` waits for LF_RELEASE.
const HANDLERS = `import { appendFileSync, existsSync } from 'node:fs';
const mark = (task, ctx) => appendFileSync(process.env.LF_MARKERS, \`\${task} \${ctx.attempt} \${process.pid} start\\n\`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  fetch: async (_input, ctx) => { mark('fetch', ctx); return { n: 1 }; },
  hold: async (input, ctx) => {
    mark('hold', ctx);
    while (!existsSync(process.env.LF_RELEASE)) await sleep(50);
    return { held: input.n };
  },
  store: async (input, ctx) => { mark('store', ctx); return { stored: input.held }; },
  flaky: async (_input, ctx) => {
    mark('flaky', ctx);
    if (ctx.attempt === 1) throw new Error('the service said 503');
    return { ok: true };
  },
  slow: async (_input, ctx) => {
    mark('slow', ctx);
    if (ctx.attempt === 1) await new Promise((r) => ctx.signal.addEventListener('abort', r));
    return { done: ctx.attempt };
  },
};
`;

type Event = { type: string; time: string; data: Record<string, any> };

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

describe.skipIf(noNats)('engine --handlers runs its attempts in process', () => {
  const c = useCluster();

  function setUp() {
    const dir = tempDir('lf-engine-local-');
    writeFileSync(join(dir, 'takeover.yaml'), KILL_YAML);
    writeFileSync(join(dir, 'retries.yaml'), RETRY_YAML);
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    // A short task ack wait: a copy of a lost engine's attempt is found unrun within seconds (claim-asks.ts).
    const env = {
      LF_MARKERS: join(dir, 'markers'),
      LF_RELEASE: join(dir, 'release'),
      LEDGERFLOW_NATS_TASK_ACK_WAIT: '2s',
    };
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir, env });
    const spawned = (...args: string[]) => {
      const child = spawnCli(['--nats', c.url, ...args], { cwd: dir, env });
      procs.push(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      return { child, out: () => out };
    };
    const started = async (p: { out: () => string }, what: string) =>
      waitFor(`the ${what} to start`, () => /(engine|worker) \d+ (taking|running)/.test(p.out()), {
        timeout: 30_000,
        detail: p.out,
      });
    const markers = () =>
      existsSync(env.LF_MARKERS)
        ? readFileSync(env.LF_MARKERS, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.split(' '))
        : [];
    const start = async (workflow: string) => {
      const r = await lf('start', workflow, '--json');
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { runId: string }).runId;
    };
    const history = async (runId: string) => JSON.parse((await lf('history', runId, '--json')).stdout) as Event[];
    return { dir, env, lf, spawned, started, markers, start, history };
  }

  it('killed mid-attempt, another engine --handlers finishes the run: each task completed once, the lost attempt restarted', async () => {
    const t = setUp();
    expect((await t.lf('deploy', 'takeover.yaml')).code).toBe(0);
    // Whatever crosses NATS of the worker protocol while the first engine runs the attempts itself.
    const nc = await c.connect();
    const protocol: string[] = [];
    nc.subscribe('lf.offer.>', { callback: (_e, m) => void protocol.push(m.subject) });
    nc.subscribe('lf.reports.>', { callback: (_e, m) => void protocol.push(m.subject) });
    await nc.flush();
    const first = t.spawned('engine', '--handlers', 'handlers.mjs');
    await t.started(first, 'first engine');
    const runId = await t.start('local-takeover');
    await waitFor('the first engine to run hold', () => t.markers().some((m) => m[0] === 'hold'), {
      timeout: 30_000,
      detail: first.out,
    });
    expect(protocol, first.out()).toEqual([]);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.on('close', r));
    writeFileSync(t.env.LF_RELEASE, '');

    const second = t.spawned('engine', '--handlers', 'handlers.mjs');
    const waited = await t.lf('wait', runId, '--timeout', '60s', '--json');
    expect(waited.code, waited.stderr + second.out()).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({
      status: 'COMPLETED',
      tasks: { store: { status: 'COMPLETED', output: { stored: 1 } } },
    });
    const events = await t.history(runId);
    const completed = events.filter((e) => e.type === 'task.completed');
    expect(
      completed.map((e) => [e.data.task, e.data.attempt]),
      second.out(),
    ).toEqual([
      ['fetch', 1],
      ['hold', 1],
      ['store', 1],
    ]);
    // The attempt the first engine ran when it died is run again as the same attempt, not a retry.
    expect(events.filter((e) => e.type === 'task.restarted').map((e) => [e.data.task, e.data.attempt])).toEqual([
      ['hold', 1],
    ]);
    expect(events.filter((e) => e.type === 'task.failed')).toEqual([]);
    // Reported by the engines' user (the URL names none: `engine`), as before.
    for (const e of completed) expect(e.data.by).toBe('engine');
    // The handlers: fetch once (first engine), hold by each engine, store once (second engine).
    const pids = (task: string) =>
      t
        .markers()
        .filter((m) => m[0] === task)
        .map((m) => Number(m[2]));
    expect(pids('fetch')).toEqual([first.child.pid]);
    expect(pids('hold')).toEqual([first.child.pid, second.child.pid]);
    expect(pids('store')).toEqual([second.child.pid]);
    expect((await t.lf('replay', runId)).code).toBe(0);
  }, 120_000);

  it('a retry and a timed-out attempt record the same events as the engine and remote worker processes', async () => {
    const t = setUp();
    expect((await t.lf('deploy', 'retries.yaml')).code).toBe(0);
    const shape = (events: Event[], runId: string) =>
      JSON.parse(
        JSON.stringify(
          events.map((e) => ({ type: e.type, data: e.data })),
          (k, v) =>
            // Who reported (the engine's user, the worker's) and the clock's readings differ between the two; the rest may not.
            k === 'by' || k === 'unauthenticated' || k === 'durationMs'
              ? undefined
              : typeof v === 'string'
                ? v.replaceAll(runId, '<run>').replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, '<time>')
                : v,
        ),
      );
    const run = async () => {
      const runId = await t.start('local-retries');
      const waited = await t.lf('wait', runId, '--timeout', '60s', '--json');
      expect(waited.code, waited.stderr).toBe(0);
      return shape(await t.history(runId), runId);
    };
    const engine = t.spawned('engine', '--handlers', 'handlers.mjs');
    await t.started(engine, 'engine --handlers');
    const local = await run();
    engine.child.kill('SIGTERM');
    await new Promise((r) => engine.child.on('close', r));
    // The same workflow with the handlers in a remote worker process.
    const plain = t.spawned('engine');
    const worker = t.spawned('worker', '--handlers', 'handlers.mjs');
    await t.started(plain, 'engine');
    await t.started(worker, 'worker');
    const remote = await run();
    expect(local.map((e: Event) => e.type)).toEqual(remote.map((e: Event) => e.type));
    expect(local).toEqual(remote);
    expect(local.filter((e: Event) => e.type === 'task.failed').map((e: Event) => e.data.task)).toEqual(['flaky']);
    expect(local.filter((e: Event) => e.type === 'timer.fired').map((e: Event) => e.data.timer)).toContain('timeout');
  }, 120_000);
});
