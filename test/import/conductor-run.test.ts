/**
 * An imported workflow runs as Conductor would have run it: its loop condition, switch and plain INLINE
 * translated, its JSON_JQ_TRANSFORM run as jq; JavaScript beyond plain comparisons (INLINE, a SWITCH's script,
 * a DO_WHILE's condition) run as TRANSFORM js tasks, on the embedded store and on NATS; HTTP_POLL as a loop
 * polling a loopback server; QUERY_PROCESSOR by its handler; WAIT_FOR_WEBHOOK taken with `ledgerflow signal`.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';

/** Conductor workflows of our own, with the JavaScript and task types of the real ones (docs/conductor.md#coverage). */
const FIXTURES = join(ROOT, 'test', 'fixtures', 'conductor-js');
const ORDERS = {
  customer: 'Acme Corp',
  orders: [
    { id: 'ord-1', amount: 50 },
    { id: 'ord-2', amount: 150 },
  ],
  limit: 3,
};

/** A folder with the fixture imported into definitions/ (exit 0), the handlers and the orders' input beside it. */
async function imported(name: string): Promise<string> {
  const dir = tempDir('lf-conductor-js-');
  copyFileSync(join(FIXTURES, `${name}.json`), join(dir, `${name}.json`));
  copyFileSync(join(FIXTURES, 'handlers.mjs'), join(dir, 'handlers.mjs'));
  writeFileSync(join(dir, 'orders.json'), JSON.stringify(ORDERS));
  const r = await cli(['import', 'conductor', `${name}.json`, '--out', 'definitions'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const v = await cli(['validate', `definitions/${name}.yaml`], { cwd: dir });
  expect(v.code, v.stderr).toBe(0);
  return dir;
}

/** What js_orders gives for ORDERS, whatever the store. */
function expectOrders(output: Record<string, unknown>): void {
  expect(output).toMatchObject({
    summary: { customer: 'Acme', big: ['2'], total: 200 },
    first: 'ord-1',
    size: 'one',
    rounds: 3,
    failedRuns: 0,
  });
  expect(Date.parse(output.stamped as string)).not.toBeNaN();
}

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

const conductor = {
  name: 'count_up',
  version: 1,
  inputParameters: ['limit'],
  outputParameters: {
    rounds: '${loop_ref.output.iteration}',
    size: '${size_ref.output.result}',
    last: '${count_ref.output.n}',
  },
  tasks: [
    {
      name: 'loop',
      taskReferenceName: 'loop_ref',
      type: 'DO_WHILE',
      inputParameters: { limit: '${workflow.input.limit}' },
      loopCondition: "if ($.loop_ref['iteration'] < $.limit) { true; } else { false; }",
      loopOver: [
        {
          name: 'count',
          taskReferenceName: 'count_ref',
          type: 'SIMPLE',
          inputParameters: { round: '${loop_ref.output.iteration}' },
        },
      ],
    },
    {
      name: 'size',
      taskReferenceName: 'size_switch',
      type: 'SWITCH',
      evaluatorType: 'graaljs',
      inputParameters: { n: '${count_ref.output.n}' },
      expression: "(function () { return $.n >= 3 ? 'many' : 'few'; })();",
      decisionCases: {
        many: [
          {
            name: 'many',
            taskReferenceName: 'size_ref',
            type: 'INLINE',
            inputParameters: { evaluatorType: 'graaljs', expression: "'many'" },
          },
        ],
        few: [
          {
            name: 'few',
            taskReferenceName: 'few_ref',
            type: 'INLINE',
            inputParameters: { evaluatorType: 'graaljs', expression: "'few'" },
          },
        ],
      },
    },
  ],
};

describe('an imported Conductor workflow, run', () => {
  it('loops until its translated condition fails and takes the case its translated JavaScript chooses', async () => {
    const dir = tempDir('lf-conductor-run-');
    writeFileSync(join(dir, 'count.json'), JSON.stringify(conductor));
    writeFileSync(join(dir, 'handlers.mjs'), 'export default { async count(input) { return { n: input.round }; } };\n');
    const imported = await cli(['import', 'conductor', 'count.json', '--out', 'definitions'], { cwd: dir });
    expect(imported.code, imported.stderr).toBe(0);
    const run = await cli(
      ['run', 'definitions/count_up.yaml', '--handlers', './handlers.mjs', '--limit', '3', '--json'],
      { cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/"rounds": 3/);
    expect(run.stdout).toMatch(/"size": "many"/);
    expect(run.stdout).toMatch(/"last": 3/);
  });

  it('runs a JSON_JQ_TRANSFORM as a TRANSFORM: its queryExpression over its other inputParameters, read as ${ref.output.result}', async () => {
    const dir = tempDir('lf-conductor-run-');
    const jqWorkflow = {
      name: 'order_summary',
      version: 1,
      inputParameters: ['items'],
      outputParameters: { total: '${sum_ref.output.result.total}', names: '${names_ref.output.resultList}' },
      tasks: [
        {
          name: 'sum',
          taskReferenceName: 'sum_ref',
          type: 'JSON_JQ_TRANSFORM',
          inputParameters: {
            items: '${workflow.input.items}',
            queryExpression: '{ total: (.items | map(.price) | add) }',
          },
        },
        {
          name: 'names',
          taskReferenceName: 'names_ref',
          type: 'JSON_JQ_TRANSFORM',
          inputParameters: {
            items: '${workflow.input.items}',
            queryExpression: '.items[] | select(.price > 2) | .name',
          },
        },
      ],
    };
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(jqWorkflow));
    const imported = await cli(['import', 'conductor', 'summary.json', '--out', 'definitions'], { cwd: dir });
    expect(imported.code, imported.stderr).toBe(0);
    const yaml = readFileSync(join(dir, 'definitions', 'order_summary.yaml'), 'utf8');
    expect(yaml).toContain('type: TRANSFORM');
    expect(yaml).toContain('jq: "{ total: (.items | map(.price) | add) }"');
    expect((await cli(['validate', 'definitions/order_summary.yaml'], { cwd: dir })).code).toBe(0);
    writeFileSync(
      join(dir, 'items.json'),
      JSON.stringify({
        items: [
          { name: 'pen', price: 1.5 },
          { name: 'book', price: 12 },
          { name: 'lamp', price: 30 },
        ],
      }),
    );
    const run = await cli(['run', 'definitions/order_summary.yaml', '--input-file', 'items.json', '--json'], {
      cwd: dir,
      env: { LEDGERFLOW_STORE: join(dir, 'store') },
    });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { output: unknown }).output).toEqual({ total: 43.5, names: ['book', 'lamp'] });
  });

  it("runs INLINE JavaScript (new Date, arrows, a regex, substring, a quoted ${…}, .get), a SWITCH's switch statement and a loop condition with an arrow as TRANSFORM js tasks; QUERY_PROCESSOR by its handler", async () => {
    const dir = await imported('js_orders');
    const yaml = readFileSync(join(dir, 'definitions', 'js_orders.yaml'), 'utf8');
    expect(yaml).toContain('- id: size_switch_js');
    expect(yaml).toContain('loop_condition: ${loop_ref_condition.output.result} == true');
    const run = await cli(
      ['run', 'definitions/js_orders.yaml', '--handlers', './handlers.mjs', '--input-file', 'orders.json', '--json'],
      { cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } },
    );
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as {
      output: Record<string, unknown>;
      tasks: Record<string, { output: unknown }>;
    };
    expectOrders(view.output);
    expect(view.tasks.size_switch_js!.output).toEqual({ result: 'one' });
  });

  it("polls an HTTP_POLL's URL until its terminationCondition holds, pausing pollingInterval between requests, and reads its response as Conductor's", async () => {
    let polls = 0;
    const server: Server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/jobs') return res.end(JSON.stringify({ jobId: 'j-7' }));
      if (req.method === 'GET' && req.url === '/jobs/j-7')
        return res.end(JSON.stringify({ state: ++polls < 3 ? 'RUNNING' : 'DONE' }));
      res.statusCode = 404;
      res.end('{}');
    });
    const port = await new Promise<number>((ok) =>
      server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port)),
    );
    try {
      const dir = await imported('poll_job');
      const started = Date.now();
      const run = await cli(['run', 'definitions/poll_job.yaml', '--api', `http://127.0.0.1:${port}`, '--json'], {
        cwd: dir,
        env: { LEDGERFLOW_STORE: join(dir, 'store') },
      });
      expect(run.code, run.stderr).toBe(0);
      expect((JSON.parse(run.stdout) as { output: unknown }).output).toEqual({
        jobId: 'j-7',
        state: 'DONE',
        code: 200,
        outcome: 'stored',
      });
      expect(polls).toBe(3);
      // Two pauses of pollingInterval (1 s): after the first and the second request, none after the third.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    } finally {
      server.close();
    }
  });

  it("waits on a WAIT_FOR_WEBHOOK until `ledgerflow signal` delivers the webhook's body, which is its output", async () => {
    const dir = await imported('webhook_reply');
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const yaml = readFileSync(join(dir, 'definitions', 'webhook_reply.yaml'), 'utf8');
    expect(yaml).toContain("ledgerflow signal <runId> webhook_ref --data '<body>'");
    const run = await cli(['run', 'definitions/webhook_reply.yaml', '--json'], { cwd: dir, env });
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const sent = await cli(
      ['signal', runId, 'webhook_ref', '--data', JSON.stringify({ event: { channel: 'C123', text: ' ship it ' } })],
      { cwd: dir, env },
    );
    expect(sent.code, sent.stderr).toBe(0);
    const done = JSON.parse((await cli(['status', runId, '--json'], { cwd: dir, env })).stdout) as {
      status: string;
      output: unknown;
    };
    expect(done).toMatchObject({ status: 'COMPLETED', output: { reply: 'got: SHIP IT' } });
  });
});

describe.skipIf(noNats)('an imported Conductor workflow with JavaScript, on NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('deploys and runs js_orders with the engine running the scripts and its handlers', async () => {
    const dir = await imported('js_orders');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    const deployed = await lf('deploy', 'definitions/js_orders.yaml');
    expect(deployed.code, deployed.stderr).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine', '--handlers', join(dir, 'handlers.mjs')], { cwd: dir }));
    const started = await lf('start', 'js_orders', '--input-file', 'orders.json', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const done = await statusWhen<{ status: string; output: Record<string, unknown> }>(lf, runId, 'COMPLETED', 60_000);
    expectOrders(done.output);
  }, 120_000);
});
