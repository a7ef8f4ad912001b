/**
 * The COMMAND executor (src/handlers/command.ts) on real processes: no shell,
 * input on stdin, the LF_ variables, JSON or text output, exit codes, a
 * missing program, the output cap (a gigabyte printed is read and dropped),
 * and the whole process group killed on abort.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError, createCommandExecutor } from '../../src/handlers/index.js';
import { NonRetryableError } from '../../src/errors/index.js';
import type { CommandContext } from '../../src/runtime/index.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { processGone } from '../helpers/processes.js';

const NODE = process.execPath;

function ctx(over: Partial<CommandContext> = {}): CommandContext {
  return {
    runId: 'r-1',
    workflowId: 'wf',
    taskId: 'scan',
    attempt: 2,
    idempotencyKey: 'r-1/scan/2',
    signal: new AbortController().signal,
    log: () => {},
    ...over,
  };
}

describe('the COMMAND executor', () => {
  const run = createCommandExecutor();

  it('sends the input as JSON on stdin and takes a JSON object on stdout as the output, with the LF_ variables and the task env set', async () => {
    const script = `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.stringify({input:JSON.parse(s),env:{run:process.env.LF_RUN_ID,wf:process.env.LF_WORKFLOW_ID,task:process.env.LF_TASK_ID,attempt:process.env.LF_ATTEMPT,key:process.env.LF_IDEMPOTENCY_KEY,mode:process.env.MODE,init:process.env.LF_INIT_CWD,path0:process.env.PATH.split(':')[0]},cwd:process.cwd()})))`;
    const out = await run({ argv: [NODE, '-e', script], env: { MODE: 'strict' } }, { folder: 'a b', n: 1 }, ctx());
    expect(out).toEqual({
      input: { folder: 'a b', n: 1 },
      env: {
        run: 'r-1',
        wf: 'wf',
        task: 'scan',
        attempt: '2',
        key: 'r-1/scan/2',
        mode: 'strict',
        init: process.cwd(),
        path0: join(ROOT, 'bin'),
      },
      cwd: process.cwd(),
    });
  });

  it("runs in the definition's directory by default, and resolves a relative cwd against it", async () => {
    const dir = tempDir('lf-cmd-cwd-');
    mkdirSync(join(dir, 'sub'));
    const file = join(dir, 'wf.yaml');
    const pwd = [NODE, '-e', 'console.log(JSON.stringify({cwd: process.cwd()}))'];
    expect(await run({ argv: pwd, env: {} }, {}, ctx({ definitionFile: file }))).toEqual({ cwd: dir });
    expect(await run({ argv: pwd, cwd: 'sub', env: {} }, {}, ctx({ definitionFile: file }))).toEqual({
      cwd: join(dir, 'sub'),
    });
    await expect(run({ argv: pwd, cwd: 'nope', env: {} }, {}, ctx({ definitionFile: file }))).rejects.toMatchObject({
      code: 'LF_COMMAND_CWD',
      retryable: false,
    });
  });

  it('passes every argument as it is: nothing is a shell, so `; rm -rf` is text', async () => {
    const dir = tempDir('lf-cmd-inject-');
    const sentinel = join(dir, 'keep-me');
    writeFileSync(sentinel, 'x');
    const args = [`x; rm -rf ${sentinel}`, `$(rm ${sentinel})`, `\`rm ${sentinel}\``, '| cat', '*'];
    const out = await run(
      { argv: [NODE, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...args], env: {} },
      {},
      ctx(),
    );
    expect(out).toEqual(args);
    expect(existsSync(sentinel)).toBe(true);
  });

  it('gives { stdout, stderr, exit_code } when stdout is not a JSON object or list', async () => {
    expect(await run({ argv: ['sh', '-c', 'echo hello; echo warn >&2'], env: {} }, {}, ctx())).toEqual({
      stdout: 'hello\n',
      stderr: 'warn\n',
      exit_code: 0,
    });
    expect(await run({ argv: ['sh', '-c', 'echo 42'], env: {} }, {}, ctx())).toEqual({
      stdout: '42\n',
      stderr: '',
      exit_code: 0,
    });
  });

  it('fails the attempt on a non-zero exit, retryable, quoting the end of stderr', async () => {
    const err = await run(
      {
        argv: ['sh', '-c', 'head -c 10000 /dev/zero | tr "\\0" a >&2; echo "disk full at /data" >&2; exit 3'],
        env: {},
      },
      {},
      ctx(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err).toMatchObject({ code: 'LF_COMMAND_EXIT', retryable: true });
    const message = (err as Error).message;
    expect(message).toMatch(
      /^command sh exited with code 3; stderr \(last 2000 bytes at most\): a+disk full at \/data$/,
    );
    expect(message.length).toBeLessThan(2200);
  });

  it('fails for good when the program does not exist, naming it and where it was looked for', async () => {
    const err = await run({ argv: ['no-such-program-lf', '--x'], env: {} }, {}, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: 'LF_COMMAND_NOT_FOUND', retryable: false });
    expect((err as Error).message).toMatch(
      /^task scan: program "no-such-program-lf" was not found on PATH \(.*\) from /,
    );
    const rel = await run({ argv: ['./missing.sh'], env: {} }, {}, ctx()).catch((e: unknown) => e);
    expect((rel as Error).message).toMatch(/program "\.\/missing\.sh" was not found \(looked for it relative to /);
  });

  it('keeps at most the cap of each stream and reads the rest away: a gigabyte printed ends with the cap said in the output', async () => {
    const capped = createCommandExecutor({ outputLimit: 64 * 1024 });
    const GiB = 1024 ** 3;
    let peak = 0;
    const base = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss - base);
    }, 5);
    try {
      const out = (await capped(
        { argv: ['sh', '-c', `head -c ${GiB} /dev/zero; echo oops >&2`], env: {} },
        {},
        ctx(),
      )) as { stdout: string; stderr: string; exit_code: number; truncated: Record<string, number> };
      expect(out.stdout.length).toBe(64 * 1024);
      expect(out.truncated).toEqual({ stdout: GiB - 64 * 1024 });
      expect(out.stderr).toBe('oops\n');
    } finally {
      clearInterval(sampler);
    }
    // Kept: 64 KiB. Whatever the collector does meanwhile, nowhere near the gigabyte read.
    expect(peak).toBeLessThan(256 * 1024 * 1024);
  }, 60_000);

  it('says the cap in the failure message when a failing command printed past it', async () => {
    const capped = createCommandExecutor({ outputLimit: 1000 });
    const err = await capped(
      { argv: ['sh', '-c', 'head -c 5000 /dev/zero | tr "\\0" e >&2; exit 1'], env: {} },
      {},
      ctx(),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/\[stderr: 4000 bytes past the 1000-byte cap dropped\]$/);
  });

  it('adds the cap to a JSON output whose stderr was capped', async () => {
    const capped = createCommandExecutor({ outputLimit: 10 });
    expect(
      await capped({ argv: ['sh', '-c', 'printf \'{"a": 1}\'; echo 0123456789abcdef >&2'], env: {} }, {}, ctx()),
    ).toEqual({ a: 1, truncated: { stderr: 7 } });
  });

  it('kills the whole process group on abort: the command and the grandchild it started', async () => {
    const dir = tempDir('lf-cmd-kill-');
    const pids = join(dir, 'pids');
    const controller = new AbortController();
    const running = run(
      { argv: ['sh', '-c', `sleep 300 & echo "$$ $!" > ${pids}; wait`], env: {} },
      {},
      ctx({ signal: controller.signal }),
    );
    const [shell, grandchild] = (
      await waitFor('the command to write its pids', () => existsSync(pids) && readFileSync(pids, 'utf8').trim())
    )
      .split(' ')
      .map(Number);
    expect(processGone(shell!)).toBe(false);
    expect(processGone(grandchild!)).toBe(false);
    controller.abort(new Error('the attempt timed out'));
    await expect(running).rejects.toThrow('the attempt timed out');
    await waitFor('both processes to be gone', () => processGone(shell!) && processGone(grandchild!));
  });

  it('does not wait for what a finished command left running in its group: it is stopped', async () => {
    const dir = tempDir('lf-cmd-bg-');
    const pidFile = join(dir, 'pid');
    const out = await run(
      { argv: ['sh', '-c', `sleep 300 & echo $! > ${pidFile}; echo '{"done": true}'`], env: {} },
      {},
      ctx(),
    );
    expect(out).toEqual({ done: true });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the background sleep to be gone', () => processGone(pid));
  });

  it("passes stderr's first lines on as the attempt's log lines (progress), not all of a flood", async () => {
    const lines: string[] = [];
    await run(
      {
        argv: [
          'sh',
          '-c',
          'echo scanning >&2; echo; i=0; while [ $i -lt 200 ]; do echo "line $i" >&2; i=$((i+1)); done',
        ],
        env: {},
      },
      {},
      ctx({ log: (l) => lines.push(l) }),
    );
    expect(lines[0]).toBe('scanning');
    expect(lines).toHaveLength(51);
    expect(lines.at(-1)).toBe('(further stderr lines are not shown here; the output keeps them)');
  });
});
