/**
 * docs/language.md "JavaScript (`js:`)", as a user follows it: the page's YAML validated and run with
 * `ledgerflow run` on the embedded store, and deployed to NATS and run by `ledgerflow engine` alone (no
 * worker: the engine runs the script in QuickJS). A script that throws fails with LF_JS_ERROR and its line,
 * retried as its policy says; one that never ends is interrupted (LF_JS_TIMEOUT) and holds up nothing; one
 * that allocates without end stops at the memory limit; the script sees nothing of the host; one that does not
 * parse is refused by `validate` at its js: line. Every run replays to the state it recorded (the script never
 * runs again).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TransformError } from '../../src/errors/index.js';
import { runTransform } from '../../src/transform/index.js';
import { markedBlock } from '../docs/markdown.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, deployAndStart, expectEveryRunReplays, ROOT, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const example = `${markedBlock(page, 'transform-js-example').join('\n')}\n`;
const section = page.slice(page.indexOf('<!-- transform-js-example'));
const commands = /```sh\n([\s\S]*?)```/
  .exec(section)![1]!
  .split('\n')
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);
const EXPECTED = { labels: ['2 x A1', '1 x B2'], total: 22.5 };

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

type View = {
  status: string;
  output: unknown;
  tasks: Record<
    string,
    {
      status: string;
      attempts: number;
      output: unknown;
      error: { code: string; message: string; retryable: boolean } | null;
    }
  >;
};

describe('TRANSFORM js: on the embedded store', () => {
  it("validates and runs the docs example: the output is what the page says, the task's { result }", async () => {
    const dir = tempDir('lf-transform-js-');
    writeFileSync(join(dir, 'order_labels.yaml'), example);
    expect(commands).toEqual([
      'npx ledgerflow validate order_labels.yaml',
      'npx ledgerflow run order_labels.yaml --json',
    ]);
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const validated = await cli(commands[0]!.replace(/^npx ledgerflow /, '').split(' '), { cwd: dir, env });
    expect(validated.code, validated.stderr).toBe(0);
    const ran = await cli(commands[1]!.replace(/^npx ledgerflow /, '').split(' '), { cwd: dir, env });
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as View;
    expect(run.status).toBe('COMPLETED');
    expect(run.output).toEqual(EXPECTED);
    expect(run.tasks.labels!.output).toEqual({ result: EXPECTED });
  });

  it('a script that throws fails the attempt with LF_JS_ERROR, its message and line, retried as the policy says', async () => {
    const dir = tempDir('lf-transform-js-');
    writeFileSync(
      join(dir, 'check.yaml'),
      `workflow:
  id: check
  tasks:
    - id: check
      type: TRANSFORM
      input: { n: 1 }
      retry_policy: { max_attempts: 2, initial_delay: 10ms }
      js: |
        if ($.n < 2) {
          throw new Error('n is too small: ' + $.n);
        }
`,
    );
    const ran = await cli(['--store', join(dir, 'store'), 'run', 'check.yaml', '--json'], { cwd: dir });
    expect(ran.code).toBe(1);
    const run = JSON.parse(ran.stdout) as View;
    expect(run.status).toBe('FAILED');
    expect(run.tasks.check).toMatchObject({
      attempts: 2,
      error: {
        code: 'LF_JS_ERROR',
        retryable: true,
        message: 'task check: its JavaScript failed: Error: n is too small: 1 (line 2, col 18)',
      },
    });
  });

  it("sees nothing of the host: no require, process, fetch, files or QuickJS's own std/os modules", async () => {
    const dir = tempDir('lf-transform-js-');
    writeFileSync(
      join(dir, 'host.yaml'),
      `workflow:
  id: host
  output: { seen: "\${probe.output.result}" }
  tasks:
    - id: probe
      type: TRANSFORM
      js: |
        [typeof require, typeof process, typeof fetch, typeof std, typeof os, typeof XMLHttpRequest, typeof globalThis.scriptArgs, typeof Date.now()];
`,
    );
    const ran = await cli(['--store', join(dir, 'store'), 'run', 'host.yaml', '--json'], { cwd: dir });
    expect(ran.code, ran.stderr).toBe(0);
    expect((JSON.parse(ran.stdout) as View).output).toEqual({
      seen: ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'number'],
    });
  });

  it('a script that never ends is interrupted at the deadline (LF_JS_TIMEOUT), and the next script runs', async () => {
    const now = Date.now();
    const err = await runTransform('spin', { js: 'while (true) {}' }, {}, { deadlineMs: now + 300, now }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransformError);
    expect(err).toMatchObject({
      code: 'LF_JS_TIMEOUT',
      message: expect.stringContaining('task spin: its JavaScript ran longer than 0.3 s'),
    });
    expect(await runTransform('next', { js: '$.a + 1' }, { a: 41 })).toEqual({ result: 42 });
  });

  it('a script that allocates without end stops at the memory limit (LF_JS_ERROR, not retried)', async () => {
    const err = await runTransform(
      'hog',
      { js: "const a = []; for (let i = 0; ; i++) a.push({ i, s: 'k' + i });" },
      {},
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'LF_JS_ERROR',
      retryable: false,
      message: expect.stringContaining('task hog: its JavaScript used more than 64 MiB'),
    });
  });

  it('validate refuses a script that does not parse, at its js: line, with the line and column in the script', async () => {
    const dir = tempDir('lf-transform-js-');
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      `workflow:
  id: broken
  tasks:
    - id: shape
      type: TRANSFORM
      js: |
        const total = 1;
        return total +;
`,
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:11: error: TRANSFORM task shape: its JavaScript does not parse at line 2, col \\d+ of the script: SyntaxError: `,
      ),
    );
    const json = JSON.parse((await cli(['validate', file, '--json'])).stdout) as {
      valid: boolean;
      diagnostics: { code: string }[];
    }[];
    expect(json[0]).toMatchObject({ valid: false, diagnostics: [{ code: 'LF_JS_SYNTAX' }] });
    writeFileSync(file, 'workflow:\n  id: both\n  tasks:\n    - { id: shape, type: TRANSFORM, jq: ., js: "1" }\n');
    const both = await cli(['validate', file]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('TRANSFORM task shape sets jq and js');
  });
});

describe.skipIf(noNats)('TRANSFORM js: on NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it("the engine runs the docs example itself, with no worker running, and records a thrown error as the attempt's failure", async () => {
    const dir = tempDir('lf-transform-js-nats-');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    const engine = spawnCli(['--nats', c.url, 'engine'], { cwd: dir });
    procs.push(engine);
    // Used once it says it takes work: a start made during its start-up was once left SCHEDULED for 30 s under load
    // (not yet explained; a run started before an engine comes up is driven once it does).
    let said = '';
    for (const s of [engine.stdout!, engine.stderr!]) s.on('data', (d: Buffer) => (said += d.toString()));
    await waitFor('the engine to take work', () => said.includes('taking work from'));
    const runId = await deployAndStart(lf, dir, 'order_labels.yaml', example, 'order_labels');
    const done = await statusWhen<{ status: string; output?: unknown }>(lf, runId, 'COMPLETED');
    expect(done.output).toEqual(EXPECTED);

    const failing = await deployAndStart(
      lf,
      dir,
      'throws.yaml',
      'workflow:\n  id: throws_nats\n  tasks:\n    - { id: check, type: TRANSFORM, input: { n: 1 }, retry_policy: { max_attempts: 2, initial_delay: 10ms }, js: "$.n.total.value" }\n',
      'throws_nats',
    );
    const failed = await statusWhen<View>(lf, failing, 'FAILED');
    expect(failed.tasks.check).toMatchObject({
      attempts: 2,
      error: {
        code: 'LF_JS_ERROR',
        message: expect.stringContaining(
          "task check: its JavaScript failed: TypeError: cannot read property 'value' of undefined",
        ),
      },
    });
  }, 90_000);
});
