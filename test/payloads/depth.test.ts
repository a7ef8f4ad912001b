/**
 * docs/language.md "How deep a value may nest": a value from outside nested past 256 levels of objects and arrays is
 * refused where it comes in, nothing recorded: a start's input (`ledgerflow start`/`run`, exit 2; the HTTP API, 400
 * naming `input.<name>`), a signal's data (exit 2), a handler's output (the attempt fails with LF_OUTPUT_TOO_LARGE, not
 * retried), on the embedded store and on NATS (engines running the handlers, and a remote worker), and a worker's report
 * carrying one is refused by the engine's wire schema. Before, a 4,000-deep input was recorded and left a run whose
 * `history`, `status --yaml` and `replay` died of a stack overflow; 5,000 levels were a 500.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputMessage } from '../../src/cluster/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { waitFor } from '../helpers/wait.js';

const NESTED = `workflow:
  id: nested
  handlers: ./nested.mjs
  input:
    optional: [tree, depth]
  tasks:
    - id: build
      type: SIMPLE
      handler: build
      input: { depth: "\${workflow.input.depth}", tree: "\${workflow.input.tree}" }
      retry_policy: { max_attempts: 3, initial_delay: 10ms }
`;
/** Returns an output `depth` levels deep: an object holding arrays one level less deep (none asked: 2). */
const NESTED_MJS = `export default {
  build: async (input) => {
    let v = [];
    for (let i = 2; i < Number(input.depth ?? 2); i++) v = [v];
    return { v, given: JSON.stringify(input.tree ?? null).length };
  },
};
`;
const TRANSFORMS = `workflow:
  id: reshape
  input:
    optional: [program]
  tasks:
    - { id: by_jq, type: TRANSFORM, optional: true, jq: 'reduce range(0; 299) as $i ([]; [.]) | { deep: . }' }
    - { id: by_js, type: TRANSFORM, optional: true, js: 'let v = []; for (let i = 0; i < 299; i++) v = [v]; v;' }
`;
const TRIGGERED = `workflow:
  id: on_thing
  input:
    optional: [x]
  triggers:
    - event: thing
      input: { x: "\${event.data.x}" }
  tasks:
    - { id: note, type: SET, values: { seen: true } }
`;
const SIGNAL = 'workflow:\n  id: hold\n  tasks:\n    - { id: w, type: WAIT, event: go }\n';

/** `depth` arrays, one inside the other, as JSON text. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const TOO_DEEP =
  'nests objects and arrays more than 256 levels deep; flatten it, or carry the deep part as a JSON string';

function project(): string {
  const dir = tempDir('lf-depth-');
  mkdirSync(join(dir, 'definitions'));
  writeFileSync(join(dir, 'definitions', 'nested.yaml'), NESTED);
  writeFileSync(join(dir, 'definitions', 'nested.mjs'), NESTED_MJS);
  writeFileSync(join(dir, 'definitions', 'hold.yaml'), SIGNAL);
  writeFileSync(join(dir, 'definitions', 'reshape.yaml'), TRANSFORMS);
  writeFileSync(join(dir, 'definitions', 'on-thing.yaml'), TRIGGERED);
  for (const d of [256, 257, 5_000]) writeFileSync(join(dir, `tree-${d}.json`), `{"tree": ${nested(d)}}`);
  return dir;
}

type View = { status: string; tasks: Record<string, { status: string; attempts: number; error?: { code?: string } }> };

describe('how deep a value may nest, on the embedded store', () => {
  it('refuses a start, a signal and an output past 256 levels; 256 runs and every read shows it', async () => {
    const dir = project();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const run = (args: string[]) => cli(args, { cwd: dir, env });

    for (const d of [257, 5_000]) {
      for (const verb of [
        ['start', 'nested'],
        ['run', 'definitions/nested.yaml'],
      ]) {
        const r = await run([...verb, '--input-file', `tree-${d}.json`]);
        expect(r.code, `${verb[0]} ${d}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain(`input tree ${TOO_DEEP}`);
      }
    }
    expect(JSON.parse((await run(['list', '--json'])).stdout)).toEqual([]);

    // At the limit: recorded, run, and shown by every read.
    const ok = await run(['run', 'definitions/nested.yaml', '--input-file', 'tree-256.json', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const { runId } = JSON.parse(ok.stdout) as { runId: string };
    for (const read of [
      ['status', runId, '--yaml'],
      ['history', runId],
      ['replay', runId],
    ])
      expect((await run(read)).code, read.join(' ')).toBe(0);

    // A handler's output past the limit (and one deep enough to overflow JSON.stringify): failed at once, not retried.
    for (const depth of [257, 6_000]) {
      const r = await run(['run', 'definitions/nested.yaml', '--depth', String(depth), '--json']);
      expect(r.code, r.stderr).toBe(1);
      const view = JSON.parse(r.stdout) as View & { runId: string };
      expect(view.status).toBe('FAILED');
      expect(view.tasks.build).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'LF_OUTPUT_TOO_LARGE' } });
      expect(r.stdout).toContain(`the output of task build ${TOO_DEEP}`);
      for (const read of [
        ['status', view.runId, '--yaml'],
        ['history', view.runId],
        ['replay', view.runId],
      ])
        expect((await run(read)).code, read.join(' ')).toBe(0);
    }
    expect((await run(['run', 'definitions/nested.yaml', '--depth', '256'])).code).toBe(0);

    // A TRANSFORM's program building one, in jq and in JavaScript (optional tasks, so neither cancels the other): failed at once.
    const reshaped = await run(['run', 'definitions/reshape.yaml', '--json']);
    const transforms = JSON.parse(reshaped.stdout) as View;
    for (const task of ['by_jq', 'by_js'])
      expect(transforms.tasks[task], task).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'LF_OUTPUT_TOO_LARGE' },
      });
    expect(reshaped.stdout).toContain(`its output ${TOO_DEEP}`);

    // An event whose data nests past the limit, even one too deep to write as text: refused (exit 2), dead-lettered
    // naming it and kept without its data; nothing started.
    for (const d of [300, 9_000]) {
      const ev = await run(['emit', 'thing', '--data', `{"x": ${nested(d)}}`, '--json']);
      expect(ev.code, ev.stderr).toBe(2);
      expect(ev.stderr).toContain(`nests objects and arrays more than 256 levels deep`);
    }
    const letters = readFileSync(
      join(dir, 'store', 'dead-letter', readdirSync(join(dir, 'store', 'dead-letter'))[0]!),
      'utf8',
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; event: Record<string, unknown> });
    expect(letters).toHaveLength(2);
    for (const l of letters) {
      expect(l.reason).toMatch(/^the data of event \S+ nests/);
      expect(l.reason).toContain(TOO_DEEP);
      expect(l.event).toMatchObject({ type: 'thing' });
      expect(l.event.data).toBeUndefined();
    }
    expect(JSON.parse((await run(['list', '--workflow', 'on_thing', '--json'])).stdout)).toEqual([]);

    // A signal's data past the limit: refused, nothing recorded.
    const held = JSON.parse((await run(['run', 'definitions/hold.yaml', '--json'])).stdout) as { runId: string };
    const before = JSON.parse((await run(['history', held.runId, '--json'])).stdout) as unknown[];
    const sig = await run(['signal', held.runId, 'go', '--data', nested(400)]);
    expect(sig.code).toBe(2);
    expect(sig.stderr).toContain(`the data of signal "go" ${TOO_DEEP}`);
    expect(JSON.parse((await run(['history', held.runId, '--json'])).stdout)).toHaveLength(before.length);
    expect((await run(['signal', held.runId, 'go', '--data', nested(256)])).code).toBe(0);
  }, 120_000);

  it("the dashboard's API answers a start past the limit with a 400 naming the input, nothing started", async () => {
    const dir = project();
    const ui = await startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'definitions')], {
      cwd: dir,
    });
    try {
      for (const d of [257, 5_000, 50_000]) {
        const r = await fetch(`${ui.base}/api/workflows/nested/start`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
          body: `{"input": {"tree": ${nested(d)}}}`,
        });
        expect(r.status, String(d)).toBe(400);
        expect(((await r.json()) as { error: unknown }).error).toEqual({
          code: 'LF_INPUT_INVALID',
          field: 'input.tree',
          message: `input.tree: ${TOO_DEEP} (declared: tree?: any, depth?: any)`,
        });
      }
      const listed = await cli(['list', '--json', '--store', join(dir, 'store')], { cwd: dir });
      expect(JSON.parse(listed.stdout)).toEqual([]);
    } finally {
      await ui.stop();
    }
  }, 60_000);
});

describe.skipIf(noNats)('how deep a value may nest, on NATS', () => {
  const c = useCluster();
  const procs: LedgerflowProcess[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });

  const refusedOn = async (processes: string[][]) => {
    const dir = project();
    for (const args of processes) {
      const p = spawnLedgerflow(args[0]!, args, { cwd: dir, markers: join(dir, 'markers') });
      procs.push(p);
      await p.started();
    }
    const nats = ['--nats', c.as('engine')];
    expect((await cli(['deploy', 'definitions/nested.yaml', ...nats], { cwd: dir })).code).toBe(0);
    const start = await cli(['start', 'nested', '--input-file', 'tree-257.json', ...nats], { cwd: dir });
    expect(start.code, start.stderr).toBe(2);
    expect(start.stderr).toContain(`input tree ${TOO_DEEP}`);

    const settled = async (depth: number) => {
      const started = await cli(['start', 'nested', '--depth', String(depth), '--json', ...nats], { cwd: dir });
      expect(started.code, started.stderr).toBe(0);
      const { runId } = JSON.parse(started.stdout) as { runId: string };
      const done = await cli(['wait', runId, '--timeout', '60s', '--json', ...nats], { cwd: dir });
      return JSON.parse(done.stdout) as View;
    };
    const view = await settled(300);
    expect(view.status).toBe('FAILED');
    expect(view.tasks.build).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'LF_OUTPUT_TOO_LARGE' } });
    expect((await settled(256)).status).toBe('COMPLETED');
  };

  it('engines running the handlers (engine --handlers)', async () => {
    await refusedOn([['engine', '--nats', c.as('engine'), '--handlers', './definitions/nested.mjs']]);
  }, 120_000);

  it('an engine and a remote worker running them (worker --handlers)', async () => {
    await refusedOn([
      ['engine', '--nats', c.as('engine')],
      ['worker', '--nats', c.as('worker'), '--handlers', './definitions/nested.mjs'],
    ]);
  }, 120_000);

  it('an event whose data nests past the limit, published by hand on lf.triggers: dead-lettered with why; the engine goes on', async () => {
    const dir = project();
    const engine = spawnLedgerflow('engine', ['engine', '--nats', c.as('engine')], {
      cwd: dir,
      markers: join(dir, 'm'),
    });
    procs.push(engine);
    await engine.started();
    const nats = ['--nats', c.as('engine')];
    expect((await cli(['deploy', 'definitions/on-thing.yaml', ...nats], { cwd: dir })).code).toBe(0);
    const nc = await c.connect();
    for (const [id, depth] of [
      ['deep-300', 300],
      ['deep-9000', 9_000],
    ] as const)
      nc.publish(
        'lf.triggers.thing',
        `{"id":"${id}","type":"thing","time":"2026-12-01T15:00:00.000Z","data":{"x":${nested(depth)}}}`,
      );
    await nc.flush();
    await waitFor('both dead-lettered', () => engine.output().includes('the data of event deep-9000 nests'), {
      timeout: 20_000,
      detail: engine.output,
    });
    expect(engine.output()).toContain(`the data of event deep-300 ${TOO_DEEP}`);
    // The CLI refuses one before it publishes; a fine event after them starts its run.
    const deep = await cli(['emit', 'thing', '--data', `{"x": ${nested(9_000)}}`, ...nats], { cwd: dir });
    expect(deep.code, deep.stderr).toBe(2);
    expect(deep.stderr).toContain(TOO_DEEP);
    const fine = await cli(['emit', 'thing', '--data', '{"x": [[1]]}', '--json', ...nats], { cwd: dir });
    expect(fine.code, fine.stderr).toBe(0);
    expect(engine.alive()).toBe(true);
    const listed = await cli(['list', '--workflow', 'on_thing', '--json', ...nats], { cwd: dir });
    expect(JSON.parse(listed.stdout)).toMatchObject([{ workflowId: 'on_thing' }]);
  }, 60_000);

  it("refuses a worker's report whose output nests past the limit (the engine's wire schema)", () => {
    const report = (depth: number) => ({
      type: 'task.completed',
      runId: '20261201-150000-0aaaaaaaaaaaa',
      time: '2026-12-01T15:00:00.000Z',
      token: 'a'.repeat(32),
      data: { task: 'build', attempt: 1, restart: 0, output: JSON.parse(nested(depth)) as unknown },
    });
    const refused = InputMessage.safeParse(report(257));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toMatchObject([{ path: ['data', 'output'], message: `the output ${TOO_DEEP}` }]);
    expect(InputMessage.safeParse(report(20_000)).success).toBe(false);
    expect(InputMessage.safeParse(report(256)).success, JSON.stringify(InputMessage.safeParse(report(256)).error)).toBe(
      true,
    );
  });
});
