/**
 * docs/language.md "TRANSFORM: reshape JSON with jq", as a user follows it: the page's YAML validated and
 * run with `ledgerflow run` on the embedded store, and deployed to NATS and run by `ledgerflow engine`
 * alone (no worker anywhere: the engine runs the jq). A program that fails retries as its policy says
 * and fails with LF_JQ_ERROR and jq's message; one that does not compile is refused by `validate` at
 * its jq: line and column. Every run replays to the state it recorded (jq never runs again).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, deployAndStart, expectEveryRunReplays, ROOT, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const example = `${markedBlock(page, 'transform-example').join('\n')}\n`;
/** The page's command lines (after the YAML), without their comments. */
const section = page.slice(page.indexOf('<!-- transform-example'));
const commands = /```sh\n([\s\S]*?)```/
  .exec(section)![1]!
  .split('\n')
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);
const EXPECTED = { total: 22.5, skus: ['A1', 'B2'] };

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

describe('TRANSFORM on the embedded store', () => {
  it('validates and runs the docs example: the output is what the page says', async () => {
    const dir = tempDir('lf-transform-');
    writeFileSync(join(dir, 'order_totals.yaml'), example);
    expect(commands).toEqual([
      'npx ledgerflow validate order_totals.yaml',
      'npx ledgerflow run order_totals.yaml --json',
    ]);
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const validated = await cli(commands[0]!.replace(/^npx ledgerflow /, '').split(' '), { cwd: dir, env });
    expect(validated.code, validated.stderr).toBe(0);
    const ran = await cli(commands[1]!.replace(/^npx ledgerflow /, '').split(' '), { cwd: dir, env });
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as {
      status: string;
      output: unknown;
      tasks: Record<string, { output: unknown }>;
    };
    expect(run.status).toBe('COMPLETED');
    expect(run.output).toEqual(EXPECTED);
    expect(run.tasks.totals!.output).toEqual({
      result: { total: 22.5, count: 2 },
      resultList: [{ total: 22.5, count: 2 }],
    });
    expect(run.tasks.skus!.output).toEqual({ result: 'A1', resultList: ['A1', 'B2'] });
  });

  it("a jq error fails the attempt with LF_JQ_ERROR and jq's message, retried as the policy says", async () => {
    const dir = tempDir('lf-transform-');
    const file = join(dir, 'shape.yaml');
    writeFileSync(
      file,
      `workflow:
  id: shape
  tasks:
    - id: shape
      type: TRANSFORM
      input: { n: 1 }
      retry_policy: { max_attempts: 2, initial_delay: 10ms }
      jq: .n.total
`,
    );
    const ran = await cli(['--store', join(dir, 'store'), 'run', file, '--json']);
    expect(ran.code).toBe(1);
    const run = JSON.parse(ran.stdout) as {
      status: string;
      tasks: Record<string, { attempts: number; error: { code: string; message: string; retryable: boolean } }>;
    };
    expect(run.status).toBe('FAILED');
    expect(run.tasks.shape!.attempts).toBe(2);
    expect(run.tasks.shape!.error).toMatchObject({ code: 'LF_JQ_ERROR', retryable: true });
    expect(run.tasks.shape!.error.message).toBe(
      'task shape: its jq program failed: Cannot index number with string ("total")',
    );
  });

  it("a program that never ends is stopped by the task's timeout, and the process goes on (jq runs in a thread of its own)", async () => {
    const dir = tempDir('lf-transform-');
    const file = join(dir, 'endless.yaml');
    writeFileSync(
      file,
      `workflow:
  id: endless
  tasks:
    - id: spin
      type: TRANSFORM
      timeout: 1s
      jq: until(false; .)
`,
    );
    const ran = await cli(['--store', join(dir, 'store'), 'run', file, '--json']);
    expect(ran.code).toBe(1);
    const run = JSON.parse(ran.stdout) as { status: string; tasks: Record<string, { status: string }> };
    expect(run.status).toBe('FAILED');
    expect(run.tasks.spin!.status).toBe('TIMED_OUT');
  });

  it('validate refuses a jq program that does not compile, at its jq: line and column', async () => {
    const dir = tempDir('lf-transform-');
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      `workflow:
  id: broken
  tasks:
    - id: shape
      type: TRANSFORM
      jq: ".lines | map(.qty"
`,
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}:6:11: error: TRANSFORM task shape: its jq program does not compile: syntax error, unexpected end of file`,
    );
    expect(r.stderr).toContain('line 1, column');
    const json = JSON.parse((await cli(['validate', file, '--json'])).stdout) as {
      valid: boolean;
      diagnostics: { code: string }[];
    }[];
    expect(json[0]).toMatchObject({ valid: false, diagnostics: [{ code: 'LF_JQ_COMPILE' }] });
  });
});

describe.skipIf(noNats)('TRANSFORM on NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it("the engine runs the docs example itself, with no worker running, and records a jq error as the attempt's failure", async () => {
    const dir = tempDir('lf-transform-nats-');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    const engine = spawnCli(['--nats', c.url, 'engine'], { cwd: dir });
    procs.push(engine);
    // Used once it says it takes work: a start made during its start-up was once left SCHEDULED for 30 s under load
    // (not yet explained; a run started before an engine comes up is driven once it does).
    let said = '';
    for (const s of [engine.stdout!, engine.stderr!]) s.on('data', (d: Buffer) => (said += d.toString()));
    await waitFor('the engine to take work', () => said.includes('taking work from'));
    const runId = await deployAndStart(lf, dir, 'order_totals.yaml', example, 'order_totals');
    const done = await statusWhen<{ status: string; output?: unknown }>(lf, runId, 'COMPLETED');
    expect(done.output).toEqual(EXPECTED);

    // A jq error on NATS: the engine records it as the attempt's failure, retried as the policy says.
    const failing = await deployAndStart(
      lf,
      dir,
      'shape.yaml',
      'workflow:\n  id: shape_nats\n  tasks:\n    - { id: shape, type: TRANSFORM, input: { n: 1 }, retry_policy: { max_attempts: 2, initial_delay: 10ms }, jq: .n.total }\n',
      'shape_nats',
    );
    const failed = await statusWhen<{
      status: string;
      tasks: Record<string, { attempts: number; error: { code: string; message: string } | null }>;
    }>(lf, failing, 'FAILED');
    expect(failed.tasks.shape).toMatchObject({
      attempts: 2,
      error: {
        code: 'LF_JQ_ERROR',
        message: 'task shape: its jq program failed: Cannot index number with string ("total")',
      },
    });
  }, 90_000);
});
