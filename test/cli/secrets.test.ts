/**
 * Secrets (docs/operations.md#secrets), with the page's own example: its handler module, its definition and
 * its commands, run as written. A handler echoes its input and another throws an error holding the secret;
 * then every byte the store holds (the .jsonl files and the rest of the store dir), `history --json`,
 * `status --json`, the dead letters and the dashboard's GET /api/runs/<id> are read, and the value is in none.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, testCluster, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { startUiProcess, type UiProcess } from '../server/ui-helpers.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
// The Secrets section alone: from its heading to the next one (the page has others).
const SECTION = ((rest: string) => rest.slice(0, (rest.indexOf('\n## ', 1) + 1 || rest.length + 1) - 1))(
  PAGE.slice(PAGE.indexOf('## Secrets')),
);
const VALUE = 's3cr3t-tok3n';

/** The page's fenced blocks of a language. */
const blocks = (lang: string): string[] =>
  [...SECTION.matchAll(/```(\w+)\n([\s\S]*?)```/g)].filter((m) => m[1] === lang).map((m) => m[2]!);
/** The block whose first line names the file. */
const fileBlock = (name: string): string => {
  const b = [...blocks('js'), ...blocks('yaml')].find((x) => x.split('\n')[0]!.endsWith(` ${name}`));
  if (!b) throw new Error(`docs/operations.md has no block for ${name}`);
  return b;
};

/** A command line of the page as words (single quotes, VAR=value prefixes, one `printf '%s' 'v' |`). */
interface Line {
  env: Record<string, string>;
  stdin?: string;
  args: string[];
}
function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}
function parseLine(line: string): Line {
  let rest = line;
  let stdin: string | undefined;
  const piped = /^printf '%s' '([^']*)' \| (.*)$/.exec(rest);
  if (piped) {
    stdin = piped[1]!;
    rest = piped[2]!;
  }
  const w = words(rest);
  const env: Record<string, string> = {};
  while (w.length > 0 && /^[A-Z_]+=/.test(w[0]!)) {
    const [k, ...v] = w.shift()!.split('=');
    env[k!] = v.join('=');
  }
  if (w.shift() !== 'ledgerflow') throw new Error(`not a ledgerflow command: ${line}`);
  return { env, ...(stdin !== undefined ? { stdin } : {}), args: w };
}
const shLines = (): Line[][] =>
  blocks('sh').map((b) =>
    b
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(parseLine),
  );

/** Every file under a directory, as bytes decoded. */
function everyByte(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ file: p, text: readFileSync(p).toString('latin1') });
    }
  };
  walk(dir);
  return out;
}

function project(): string {
  const dir = tempDir('lf-secrets-');
  writeFileSync(join(dir, 'secrets-demo.mjs'), fileBlock('secrets-demo.mjs'));
  writeFileSync(join(dir, 'secrets-demo.yaml'), fileBlock('secrets-demo.yaml'));
  return dir;
}

const runIdOf = (stdout: string): string => /run (\S+) started/.exec(stdout)![1]!;

describe('secrets on the embedded store (docs/operations.md#secrets)', () => {
  let ui: UiProcess | undefined;
  afterAll(async () => {
    await ui?.stop();
  });

  it("runs the page's example with the environment and with a file; the value is nowhere in the store, the history, status, the dead letters or the dashboard", async () => {
    const dir = project();
    const store = join(dir, 'store');
    const [embedded] = shLines();
    expect(embedded!.map((l) => l.args[0])).toEqual(['run', 'secrets', 'secrets', 'run']);
    const runs: string[] = [];
    for (const line of embedded!) {
      const r = await cli(['--store', store, ...line.args], {
        cwd: dir,
        env: line.env,
        ...(line.stdin !== undefined ? { stdin: line.stdin } : {}),
      });
      expect(r.stdout + r.stderr).not.toContain(VALUE);
      if (line.args[0] === 'run') {
        expect(r.code).toBe(1);
        expect(r.stdout).toContain('fail_loudly failed: the API refused the token [secret API_TOKEN]');
        expect(r.stdout).toContain('push: pushing with [secret API_TOKEN]');
        runs.push(runIdOf(r.stdout));
      } else expect(r.code, r.stderr).toBe(0);
      if (line.args[1] === 'list') expect(r.stdout.trim()).toBe('API_TOKEN');
    }
    // secrets set made the file 600; it holds the value (and only it does).
    expect(statSync(join(dir, 'secrets.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'secrets.yaml'), 'utf8')).toContain(VALUE);
    expect(runs).toHaveLength(2);

    for (const runId of runs) {
      const history = await cli(['--store', store, 'history', runId, '--json'], { cwd: dir });
      expect(history.code).toBe(0);
      expect(history.stdout).not.toContain(VALUE);
      const events = JSON.parse(history.stdout) as { type: string; data: Record<string, any> }[];
      const completed = events.filter((e) => e.type === 'task.completed');
      expect(completed.find((e) => e.data.task === 'call_api')!.data.output).toEqual({
        echoed: { url: 'https://api.example', token: '[secret API_TOKEN]', header: 'Bearer [secret API_TOKEN]' },
      });
      expect(completed.find((e) => e.data.task === 'push')!.data.output).toEqual({ sent: '[secret API_TOKEN]' });
      expect(events.find((e) => e.type === 'task.failed')!.data.error.message).toBe(
        'the API refused the token [secret API_TOKEN]',
      );
      const status = await cli(['--store', store, 'status', runId, '--json'], { cwd: dir });
      expect(status.stdout).toContain('[secret API_TOKEN]');
      expect(status.stdout).not.toContain(VALUE);
    }
    const dlq = await cli(['--store', store, 'dlq', 'list', '--json'], { cwd: dir });
    expect(dlq.stdout + dlq.stderr).not.toContain(VALUE);
    // Every byte of the store: the logs (.jsonl), the index, snapshots, dead letters.
    const files = everyByte(store);
    expect(files.some((f) => f.file.endsWith('.jsonl'))).toBe(true);
    for (const f of files) expect(f.text.includes(VALUE), f.file).toBe(false);
    expect(files.some((f) => f.text.includes('${secrets.API_TOKEN}'))).toBe(true);

    // The dashboard's run API: the inputs show the reference, the outputs and the error the mask.
    ui = await startUiProcess(['--store', store], ['--definitions', dir], { cwd: dir });
    for (const runId of runs) {
      const res = await fetch(`${ui.base}/api/runs/${runId}`, {
        headers: ui.token ? { authorization: `Bearer ${ui.token}` } : {},
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).not.toContain(VALUE);
      expect(body).toContain('[secret API_TOKEN]');
    }
  }, 120_000);

  it('fails an attempt whose secret is missing with LF_SECRET_MISSING naming it, and refuses a secrets file others may read', async () => {
    const dir = project();
    const store = join(dir, 'store');
    const r = await cli(['--store', store, 'run', 'secrets-demo.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const state = JSON.parse(r.stdout) as {
      tasks: Record<string, { status: string; error?: { code: string; message: string } }>;
    };
    expect(state.tasks.call_api!.error).toMatchObject({ code: 'LF_SECRET_MISSING' });
    expect(state.tasks.call_api!.error!.message).toMatch(/^secret API_TOKEN not found/);

    writeFileSync(join(dir, 'open.yaml'), `API_TOKEN: ${VALUE}\n`);
    chmodSync(join(dir, 'open.yaml'), 0o644);
    const refused = await cli(['--store', store, 'run', 'secrets-demo.yaml', '--secrets', 'open.yaml', '--json'], {
      cwd: dir,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`run \`chmod 600 ${join(dir, 'open.yaml')}\``);
    expect(JSON.parse(refused.stdout).error.code).toBe('LF_SECRETS_FILE_MODE');
    expect(refused.stderr + refused.stdout).not.toContain(VALUE);

    const rm = await cli(['secrets', 'rm', 'NOPE', '--secrets', 'secrets.yaml', '--json'], { cwd: dir });
    expect(rm.code).toBe(2);
    expect(JSON.parse(rm.stdout).error.code).toBe('LF_SECRET_NOT_FOUND');
  }, 60_000);
});

describe.skipIf(noNats)('secrets on NATS: the worker reads KV LF_SECRETS (docs/operations.md#secrets)', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it("a worker given the value in its environment runs the page's workflow on a server with no LF_SECRETS bucket (no wait on the bucket)", async () => {
    const fresh = await testCluster();
    const dir = project();
    const jsm = await fresh.jsm();
    await expect(jsm.streams.info('KV_LF_SECRETS')).rejects.toThrow();
    const line = (
      PAGE.split('\n').find((l) => l.startsWith('LEDGERFLOW_SECRET_API_TOKEN=') && l.includes('ledgerflow worker')) ??
      ''
    ).split(' ');
    expect(line[0]).toBe(`LEDGERFLOW_SECRET_API_TOKEN=${VALUE}`);
    for (const args of [
      ['--nats', fresh.as('engine'), 'engine'],
      ['--nats', fresh.as('worker'), line[2]!, ...line.slice(5)],
    ]) {
      const child = spawnCli(args, { cwd: dir, env: { LEDGERFLOW_SECRET_API_TOKEN: VALUE } });
      procs.push(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      await waitFor(`the ${args[2]} to start`, () => out.includes(args[2] === 'engine' ? 'engine' : 'worker '), {
        timeout: 30_000,
        detail: () => out,
      });
    }
    expect((await cli(['--nats', fresh.as('engine'), 'deploy', 'secrets-demo.yaml'], { cwd: dir })).code).toBe(0);
    const started = await cli(['--nats', fresh.as('engine'), 'start', 'secrets_demo'], { cwd: dir });
    const t0 = Date.now();
    const wait = await cli(
      ['--nats', fresh.as('engine'), 'wait', started.stdout.trim(), '--timeout', '60s', '--json'],
      { cwd: dir },
    );
    expect(JSON.parse(wait.stdout).tasks.fail_loudly.error.message).toBe(
      'the API refused the token [secret API_TOKEN]',
    );
    expect(JSON.parse(wait.stdout).tasks.call_api.attempts).toBe(1);
    // Three attempts naming the secret: none waited out a request to a bucket that is not there (about 5 s each).
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 120_000);

  it("runs the page's commands (secrets set, engine, worker, deploy, start); no stream holds the value, nor history, status or the dead letters; people may not read the bucket", async () => {
    const dir = project();
    const urlOf = (arg: string) =>
      arg
        .replace('nats://engine:engine-dev-password@127.0.0.1:4222', c.as('engine'))
        .replace('nats://worker:worker-dev-password@127.0.0.1:4222', c.as('worker'));
    const nats = shLines()[1]!;
    expect(nats.map((l) => l.args[0])).toEqual(['secrets', 'engine', 'worker', 'deploy', 'start']);
    let runId = '';
    for (const line of nats) {
      const args = line.args.map(urlOf);
      if (args[0] === 'engine' || args[0] === 'worker') {
        const child = spawnCli(args, { cwd: dir });
        procs.push(child);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (out += d));
        await waitFor(`the ${args[0]} to start`, () => out.includes(args[0] === 'engine' ? 'engine' : 'worker '), {
          timeout: 30_000,
          detail: () => out,
        });
        continue;
      }
      const r = await cli(args, {
        cwd: dir,
        env: line.env,
        ...(line.stdin !== undefined ? { stdin: line.stdin } : {}),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(VALUE);
      if (args[0] === 'start') runId = r.stdout.trim();
    }
    expect(runId).not.toBe('');
    const wait = await cli(['--nats', c.url, 'wait', runId, '--timeout', '60s'], { cwd: dir });
    expect(wait.stdout + wait.stderr).not.toContain(VALUE);
    const history = await cli(['--nats', c.url, 'history', runId, '--json'], { cwd: dir });
    expect(history.code).toBe(0);
    expect(history.stdout).not.toContain(VALUE);
    const events = JSON.parse(history.stdout) as { type: string; data: Record<string, any> }[];
    expect(
      events.map((e) => `${e.type} ${e.data.task ?? ''} ${JSON.stringify(e.data.error ?? '')}`).join('\n'),
    ).toContain('task.failed fail_loudly');
    expect(events.find((e) => e.type === 'task.completed' && e.data.task === 'call_api')!.data.output).toEqual({
      echoed: { url: 'https://api.example', token: '[secret API_TOKEN]', header: 'Bearer [secret API_TOKEN]' },
    });
    expect(events.find((e) => e.type === 'task.completed' && e.data.task === 'push')!.data.output).toEqual({
      sent: '[secret API_TOKEN]',
    });
    expect(events.find((e) => e.type === 'task.failed')!.data.error.message).toBe(
      'the API refused the token [secret API_TOKEN]',
    );
    const status = await cli(['--nats', c.url, 'status', runId, '--json'], { cwd: dir });
    expect(status.stdout).toContain('[secret API_TOKEN]');
    expect(status.stdout).not.toContain(VALUE);
    const dlq = await cli(['--nats', c.url, 'dlq', 'list', '--json'], { cwd: dir });
    expect(dlq.stdout + dlq.stderr).not.toContain(VALUE);
    const list = await cli(['--nats', c.url, 'secrets', 'list', '--json'], { cwd: dir });
    expect(JSON.parse(list.stdout).names).toEqual(['API_TOKEN']);

    // Every message of every stream but the secrets' own bucket: the log, the task queues, timers, dead letters, KV.
    const jsm = await c.jsm();
    let read = 0;
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      if (name === 'KV_LF_SECRETS') continue;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!m) continue;
        read++;
        const text =
          Buffer.from(m.data).toString('latin1') +
          (m.header ? JSON.stringify([...m.header.keys()].map((k) => m.header!.get(k))) : '');
        expect(text.includes(VALUE), `${name} #${seq}`).toBe(false);
      }
    }
    expect(read).toBeGreaterThan(10);

    // A person's user may not read the bucket; a worker's may, by key.
    const { Kvm } = await import('../../src/store/index.js');
    const { jetstream } = await import('../../src/store/index.js');
    const alice = await c.connect('alice');
    const asAlice = await new Kvm(jetstream(alice, { timeout: 3000 })).create('LF_SECRETS', {
      bindOnly: true,
      allow_direct: true,
    });
    await expect(asAlice.get('API_TOKEN')).rejects.toThrow();
    const worker = await c.connect('worker');
    const asWorker = await new Kvm(jetstream(worker, { timeout: 3000 })).create('LF_SECRETS', {
      bindOnly: true,
      allow_direct: true,
    });
    expect((await asWorker.get('API_TOKEN'))?.string()).toBe(VALUE);
  }, 180_000);
});
