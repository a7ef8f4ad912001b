/**
 * Conductor's dynamic forks as its users write them, imported and run with handlers on the embedded store and on NATS
 * (`ledgerflow engine --handlers … --http`): forks of different types (an INLINE, an HTTP, a SIMPLE and a
 * JSON_JQ_TRANSFORM, the shape of Conductor's DynamicForkExample), forks that all run one type (`forkTaskType: HTTP`
 * with forkTaskInputs written out, and an Orkes LLM_CHAT_COMPLETE per element of a list), and BLOCKING_SYSTEM_TASK (a
 * WAIT on a signal, or with --as-simple a SIMPLE task). The HTTP forks go through the HTTP executor an HTTP task uses:
 * a host off `--http-allow` is refused the same way.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { type CliResult, cli, expectEveryRunReplays, ROOT, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'conductor-fork-types');

interface View {
  runId: string;
  status: string;
  output: Record<string, any> | null;
  error: { code?: string; message: string } | null;
  tasks: Record<string, { status: string; output: unknown }>;
}

// The API the HTTP forks call: it answers with the path it was asked for and the Accept header it was sent.
let server: Server;
let host = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, accept: req.headers.accept ?? null }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/** The fixtures imported into dir/definitions (exit 0: each validates), with their handlers beside them. */
async function imported(extra: string[] = []): Promise<string> {
  const dir = tempDir('lf-conductor-fork-types-');
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(dir, f));
  const r = await cli(['import', 'conductor', '.', '--out', 'definitions', ...extra], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

const yamlOf = (dir: string, id: string) => readFileSync(join(dir, 'definitions', `${id}.yaml`), 'utf8');

/** fork_types' JOIN: each fork's output by its taskReferenceName, the HTTP one ledgerflow's { status, headers, body }. */
function expectForkTypes(output: Record<string, any> | null): void {
  expect(output!.forks).toMatchObject({
    task1: { result: 'one' },
    task2: { status: 200, body: { url: '/api?page=0', accept: 'application/json' } },
    simple_ref: { got: 'someValue' },
    task4: { result: 42, resultList: [42] },
  });
}

/** same_type's JOINs: the forks named as Conductor names them, _<name>_<i>, each given its element and __index. */
function expectSameType(output: Record<string, any> | null): void {
  expect(Object.keys(output!.pages).sort()).toEqual(['_HTTP_0', '_HTTP_1']);
  expect(output!.pages._HTTP_0).toMatchObject({ status: 200, body: { url: '/api?page=1' } });
  expect(output!.pages._HTTP_1).toMatchObject({ status: 200, body: { url: '/api?page=2' } });
  expect(output!.answers).toEqual({
    _LLM_CHAT_COMPLETE_0: { result: 'notes on a', index: 0 },
    _LLM_CHAT_COMPLETE_1: { result: 'notes on b', index: 1 },
  });
}

const SAME_TYPE_INPUT = () => JSON.stringify({ base: `http://${host}`, topics: ['a', 'b'] });

describe('Conductor dynamic forks of every type, imported', () => {
  it('imports forkTaskType as a FORK_DYNAMIC over the list Conductor builds, and BLOCKING_SYSTEM_TASK as a WAIT', async () => {
    const dir = await imported();
    const same = yamlOf(dir, 'same_type');
    expect(same).toMatch(/- id: research_fanout_branches\n {6}type: TRANSFORM\n/);
    expect(same).toMatch(
      /- id: research_fanout\n {6}type: FORK_DYNAMIC\n(.*\n)*? {6}branches: \$\{research_fanout_branches\.output\.result\}/,
    );
    expect(same).toContain('a handler named LLM_CHAT_COMPLETE must make that call');
    expect(yamlOf(dir, 'test_blocking_system_task_workflow')).toMatch(
      /- id: blocking_system_task\n {6}type: WAIT\n {6}event: blocking_system_task\n/,
    );
    // `paths` and `test` cover the new shapes as any FORK_DYNAMIC's (sample branches on generated paths).
    for (const id of ['fork_types', 'same_type']) {
      const paths = await cli(['paths', `definitions/${id}.yaml`], { cwd: dir });
      expect(paths.code, paths.stdout + paths.stderr).toBe(0);
      expect(paths.stdout).toMatch(/coverage: states (\d+)\/\1 · transitions (\d+)\/\2/);
      const tested = await cli(['test', `definitions/${id}.yaml`], { cwd: dir });
      expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    }
    // With --no-integrations an LLM fork is refused, naming the task, its type and why.
    const refused = await cli(['import', 'conductor', 'same_type.json', '--no-integrations', '--json'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).refused[0].reasons).toEqual([
      expect.objectContaining({ task: 'research_fanout', type: 'FORK_JOIN_DYNAMIC' }),
    ]);
  }, 60_000);
});

describe('on the embedded store', { timeout: 120_000 }, () => {
  it('runs forks of different types: INLINE, HTTP (through --http-allow), SIMPLE, JSON_JQ_TRANSFORM', async () => {
    const dir = await imported();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const args = ['--handlers', './handlers.mjs', '--http-allow', host, '--base', `http://${host}`, '--json'];
    const r = await cli(['run', 'definitions/fork_types.yaml', ...args], { cwd: dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectForkTypes((JSON.parse(r.stdout) as View).output);
  });

  it('runs forks of one type (forkTaskType HTTP, LLM_CHAT_COMPLETE); a host off --http-allow is refused as for an HTTP task', async () => {
    const dir = await imported();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const run = (allow: string) =>
      cli(
        [
          'run',
          'definitions/same_type.yaml',
          '--handlers',
          './handlers.mjs',
          '--http-allow',
          allow,
          '--input',
          SAME_TYPE_INPUT(),
          '--json',
        ],
        { cwd: dir, env },
      );
    const ok = await run(host);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expectSameType((JSON.parse(ok.stdout) as View).output);
    const off = await run('api.example.com');
    expect(off.code).toBe(1);
    const failed = JSON.parse(off.stdout) as View;
    expect(failed.error).toMatchObject({ code: 'LF_FORK_BRANCH_FAILED' });
    expect(failed.error!.message).toContain(`first _HTTP_0: task dynamic_workflow_array_http_ref: host ${host}`);
    expect(failed.error!.message).toContain("is not on this executor's allow-list (api.example.com)");
  });

  it('a fork of a type still not run fails with LF_FORK_BRANCHES_INVALID naming the element; a bad HTTP one too', async () => {
    const dir = await imported();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    writeFileSync(
      join(dir, 'bad.mjs'),
      `export default {
        async plan_forks() {
          return { dynamicTasks: [{ name: 'a', taskReferenceName: 'a', type: 'SIMPLE' }, { name: 'k', taskReferenceName: 'k', type: 'KAFKA_PUBLISH' }], dynamicTasksInput: {} };
        },
        async a() { throw new Error('must not run'); },
      };\n`,
    );
    writeFileSync(
      join(dir, 'nourl.mjs'),
      `export default {
        async plan_forks() {
          return { dynamicTasks: [{ name: 'h', taskReferenceName: 'h', type: 'HTTP' }], dynamicTasksInput: { h: { http_request: { method: 'GET' } } } };
        },
      };\n`,
    );
    for (const [module, text] of [
      [
        './bad.mjs',
        'element 1 of the branches of FORK_DYNAMIC task fork_join_dynamic_ref (k) has type KAFKA_PUBLISH; a branch is SIMPLE (a handler), SUB_WORKFLOW (a child run), HTTP (a request) or TRANSFORM',
      ],
      [
        './nourl.mjs',
        'element 0 of the branches of FORK_DYNAMIC task fork_join_dynamic_ref (h) is an HTTP branch, and its request has no url (or uri)',
      ],
    ] as const) {
      const r = await cli(['run', 'definitions/fork_types.yaml', '--handlers', module, '--json'], { cwd: dir, env });
      expect(r.code).toBe(1);
      const view = JSON.parse(r.stdout) as View;
      expect(view.error).toMatchObject({ code: 'LF_FORK_BRANCHES_INVALID' });
      expect(view.error!.message).toContain(text);
    }
  });

  it("runs the corpus' deep research agent (forkTaskType LLM_CHAT_COMPLETE inside a DO_WHILE) with stub handlers", async () => {
    const dir = tempDir('lf-conductor-agent-');
    const file = 'oss-conductor__docs_devguide_ai_cookbook_assets_deep-research-agent.json';
    copyFileSync(join(ROOT, 'test', 'fixtures', 'conductor-corpus', file), join(dir, file));
    writeFileSync(
      join(dir, 'agent.mjs'),
      `let round = 0;
      export default {
        async decompose_goal() { return { result: { subtopics: ['s1', 's2'] } }; },
        async LLM_CHAT_COMPLETE(input) { return { result: input.messages[1].message.split('Subtopic: ')[1], index: input.__index }; },
        async review_coverage() { round++; return { result: { sufficient: round === 2, nextSubtopics: ['s3'], gaps: [] } }; },
        async write_brief() { return { result: 'brief' }; },
        async render_brief_pdf() { return { location: 'brief.pdf' }; },
      };\n`,
    );
    const imported = await cli(['import', 'conductor', file, '--out', 'definitions'], { cwd: dir });
    expect(imported.code, imported.stderr).toBe(0);
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const r = await cli(
      ['run', 'definitions/deep_research_agent.yaml', '--handlers', './agent.mjs', '--goal', 'g', '--json'],
      { cwd: dir, env },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as View & { tasks: Record<string, { iteration?: number }> };
    // Round 1 forked one LLM call per subtopic; round 2 one for the subtopic the review asked for.
    expect(view.tasks.join_research).toMatchObject({
      iteration: 2,
      output: { _LLM_CHAT_COMPLETE_0: { result: 's3', index: 0 } },
    });
    const history = JSON.parse((await cli(['history', view.runId, '--json'], { cwd: dir, env })).stdout) as {
      type: string;
      data: { task?: string; item?: number };
    }[];
    expect(history.filter((e) => e.type === 'task.completed' && e.data.task === 'research_fanout')).toHaveLength(3);
  });

  it('BLOCKING_SYSTEM_TASK waits for its signal; with --as-simple its handler runs instead', async () => {
    const dir = await imported();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const r = await cli(['run', 'definitions/test_blocking_system_task_workflow.yaml', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(3);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const sent = await cli(['signal', runId, 'blocking_system_task', '--data', '{"done":true}'], { cwd: dir, env });
    expect(sent.code, sent.stderr).toBe(0);
    const view = JSON.parse((await cli(['status', runId, '--json'], { cwd: dir, env })).stdout) as View;
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.blocking_system_task!.output).toEqual({ done: true });

    const simple = await imported(['--as-simple', 'BLOCKING_SYSTEM_TASK']);
    expect(yamlOf(simple, 'test_blocking_system_task_workflow')).toMatch(
      /- id: blocking_system_task\n {6}type: SIMPLE\n {6}handler: blocking_system_task\n/,
    );
    const ran = await cli(
      ['run', 'definitions/test_blocking_system_task_workflow.yaml', '--handlers', './handlers.mjs', '--json'],
      { cwd: simple, env: { LEDGERFLOW_STORE: join(simple, 'store') } },
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect((JSON.parse(ran.stdout) as View).tasks.blocking_system_task!.output).toEqual({ ran: 'as a SIMPLE task' });
  });
});

describe.skipIf(noNats)('on NATS, an engine running the handlers and the HTTP requests', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('runs the three workflows with `ledgerflow engine --handlers … --http --http-allow …`', async () => {
    const dir = await imported();
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    for (const id of ['fork_types', 'same_type', 'test_blocking_system_task_workflow']) {
      const deployed = await lf('deploy', `definitions/${id}.yaml`);
      expect(deployed.code, deployed.stderr).toBe(0);
    }
    procs.push(
      spawnCli(['--nats', c.url, 'engine', '--handlers', join(dir, 'handlers.mjs'), '--http', '--http-allow', host], {
        cwd: dir,
      }),
    );
    const start = async (...args: string[]) => {
      const r = await lf('start', ...args, '--json');
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { runId: string }).runId;
    };
    const types = await start('fork_types', '--base', `http://${host}`);
    const same = await start('same_type', '--input', SAME_TYPE_INPUT());
    const blocking = await start('test_blocking_system_task_workflow');
    expectForkTypes((await statusWhen<View>(lf, types, 'COMPLETED', 60_000)).output);
    expectSameType((await statusWhen<View>(lf, same, 'COMPLETED', 60_000)).output);
    await waitingOn(lf, blocking, 'blocking_system_task');
    const sent = await lf('signal', blocking, 'blocking_system_task', '--data', '{"done":true}');
    expect(sent.code, sent.stderr).toBe(0);
    const done = await statusWhen<View>(lf, blocking, 'COMPLETED', 60_000);
    expect(done.tasks.blocking_system_task!.output).toEqual({ done: true });
  }, 120_000);
});

/** Waits until `task` of the run waits for its signal. */
async function waitingOn(lf: (...args: string[]) => Promise<CliResult>, runId: string, task: string): Promise<void> {
  let last = '';
  await waitFor(
    `${task} of ${runId} to wait for its signal`,
    async () => {
      const r = await lf('status', runId, '--json');
      last = r.stdout;
      return r.code === 0 && (JSON.parse(r.stdout) as View).tasks[task]?.status === 'WAITING';
    },
    { timeout: 60_000, detail: () => last },
  );
}
