/**
 * NATS with `ledgerflow engine --handlers` (the engines run the handlers in process, no worker anywhere), as the docs
 * tell a user to run it, with LF_DATA_KEY set on the engine (docs/security.md): a large output (docs/language.md#large-payloads)
 * goes to the LF_BLOBS bucket and the stream holds only its reference, a later task reading a field of it; the page's
 * progress (docs/handlers.md#progress) shows in `status --json` while the task runs and is kept on its outcome; and
 * every message of every stream, KV and Object Store bucket holds no clear value. The remote-worker versions:
 * test/payloads/nats-worker, test/progress/nats, test/encryption/at-rest-nats.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { NAME, leaked } from '../encryption/docs-page.js';
import { SCAN_YAML, heldHandlers } from '../progress/docs.js';

const REPORT_YAML = `workflow:
  id: report-nats
  version: 1
  input:
    required: [who]
  payloads:
    inline_limit: 1KiB
  tasks:
    - { id: produce, type: SIMPLE, handler: produce, input: { who: "\${workflow.input.who}" } }
    - { id: summarize, type: SIMPLE, handler: summarize, depends_on: [produce], input: { status: "\${produce.output.summary.status}", rows: "\${produce.output.rows}" } }
`;
const HANDLERS = `import scan from './scan-handlers.mjs';
export default {
  ...scan,
  produce: async (input) => ({ summary: { status: 'ok' }, rows: Array.from({ length: 2000 }, (_, i) => \`\${input.who} row \${i}\`) }),
  summarize: async (input) => ({ status: input.status, rows: input.rows.length, last: input.rows.at(-1) }),
};
`;

type Progress = { fraction: number; message?: string; live?: true; attempt: number };
type View = { status: string; tasks: Record<string, { status: string; output?: any; progress?: Progress }> };

describe.skipIf(noNats)('engine --handlers on NATS: payloads, progress and encryption at rest', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterAll(() => killLeftovers(procs));
  let dir = '';
  const key = randomBytes(32).toString('base64');
  const env = () => ({ LEDGERFLOW_SECRET_LF_DATA_KEY: key });
  const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir, env: env() });
  const status = async (runId: string): Promise<View | null> => {
    const r = await lf('status', runId, '--json');
    return r.code === 0 ? (JSON.parse(r.stdout) as View) : null;
  };
  const start = async (workflow: string, ...args: string[]) => {
    const r = await lf('start', workflow, ...args, '--json');
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { runId: string }).runId;
  };
  const completed = (runId: string) =>
    waitFor(`run ${runId} to complete`, async () => (await status(runId))?.status === 'COMPLETED' && status(runId), {
      timeout: 60_000,
    });

  beforeAll(async () => {
    dir = tempDir('lf-engine-handlers-');
    writeFileSync(join(dir, 'report.yaml'), REPORT_YAML);
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(join(dir, 'release')));
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    mkdirSync(join(dir, 'data'));
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'data', `f${i}.txt`), 'x');
    for (const f of ['report.yaml', 'archive-scan.yaml']) {
      const r = await lf('deploy', f);
      expect(r.code, r.stderr).toBe(0);
    }
    // The engine runs the handlers itself (no worker), with the data key in its environment.
    const engine = spawnCli(['--nats', c.url, 'engine', '--handlers', 'handlers.mjs'], { cwd: dir, env: env() });
    procs.push(engine);
    let out = '';
    engine.stdout!.on('data', (d) => (out += d));
    engine.stderr!.on('data', (d) => (out += d));
    await waitFor('the engine to start', () => out.includes('engine'), { timeout: 30_000, detail: () => out });
  }, 90_000);

  it('a large output goes to LF_BLOBS, the stream holds its reference, a later task reads a field of it', async () => {
    const runId = await start('report-nats', '--who', NAME);
    const view = (await completed(runId)) as View;
    expect(view.tasks.summarize!.output).toEqual({ status: 'ok', rows: 2000, last: `${NAME} row 1999` });
    const history = JSON.parse((await lf('history', runId, '--json')).stdout) as { type: string; data: any }[];
    const produced = history.find((e) => e.type === 'task.completed' && e.data.task === 'produce')!.data.output;
    expect(Object.keys(produced)).toEqual(['lf:blob']);
    const got = await lf('blob', 'get', produced['lf:blob'].digest);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout).rows).toHaveLength(2000);
    // The stream's own message: the reference, not the body.
    const jsm = await c.jsm();
    const info = await jsm.streams.info('LF_EVENTS');
    let largest = 0;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('LF_EVENTS', { seq }).catch(() => null);
      if (m && m.subject.endsWith(`.${runId}`)) largest = Math.max(largest, m.data.length);
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(16 * 1024);
  }, 90_000);

  it("the page's progress shows in status --json while the engine's handler runs, and is kept on the outcome", async () => {
    const runId = await start('archive-scan', '--folder', join(dir, 'data'));
    const live = await waitFor(
      'the live progress in status --json',
      async () => {
        const p = (await status(runId))?.tasks.scan?.progress;
        return p?.live && p.fraction === 0.4 ? p : null;
      },
      { timeout: 60_000 },
    );
    expect(live).toMatchObject({ fraction: 0.4, message: 'scanned 4 of 10 files', attempt: 1 });
    // In KV LF_PROGRESS the engine's message is sealed with the data key; status opened it with the same key.
    const jsm = await c.jsm();
    const kv = await jsm.streams.info('KV_LF_PROGRESS');
    const raw = (await jsm.streams.getMessage('KV_LF_PROGRESS', { seq: kv.state.last_seq }))!;
    expect(Buffer.from(raw.data).toString()).toContain('lf:enc:');
    expect(Buffer.from(raw.data).toString()).not.toContain('scanned 4 of 10');
    writeFileSync(join(dir, 'release'), '');
    const done = (await completed(runId)) as View;
    expect(done.tasks.scan!.progress).toMatchObject({ fraction: 1, message: 'scanned 10 of 10 files' });
    const history = JSON.parse((await lf('history', runId, '--json')).stdout) as { type: string; data: any }[];
    expect(history.find((e) => e.type === 'task.completed')!.data.progress).toMatchObject({ fraction: 1 });
  }, 90_000);

  it('no stream, KV or Object Store bucket holds a clear value of those runs', async () => {
    const jsm = await c.jsm();
    const clearIn = new Set<string>();
    const names: string[] = [];
    let read = 0;
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      names.push(name);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!m) continue;
        read++;
        const headers = m.header ? JSON.stringify([...m.header.keys()].map((k) => m.header!.get(k))) : '';
        if (leaked(Buffer.from(m.data).toString('latin1') + headers) !== null) clearIn.add(name);
      }
    }
    expect(names).toEqual(expect.arrayContaining(['LF_EVENTS', 'KV_LF_RUNS_INDEX', 'OBJ_LF_BLOBS']));
    expect(read).toBeGreaterThan(10);
    // What people send (a start) may travel clear, as the page says; nothing the engine stored does.
    expect([...clearIn].filter((n) => !/^(LF_REQUESTS|LF_DLQ.*)$/.test(n))).toEqual([]);
  }, 90_000);
});
