/**
 * docs/handlers.md "Progress" on NATS, as a user tries it: the page's workflow deployed, its handler run by a
 * `ledgerflow worker`, an `engine` driving; `status --json` and `status` see the progress while it runs (the worker
 * publishes to KV LF_PROGRESS), the last value is kept on task.completed; the page's COMMAND script on a worker with
 * --commands; a handler reporting 10,000 times adds nothing to the log.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { waitFor } from '../helpers/wait.js';
import { COUNT_SH, SCAN_HANDLERS, SCAN_YAML, countYaml, heldHandlers, scanFolder } from './docs.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

type Progress = { fraction: number; message?: string; live?: true; attempt: number; eta?: string };
type View = { status: string; tasks: Record<string, { status: string; progress?: Progress }> };

describe.skipIf(noNats)('progress on NATS (docs/handlers.md#progress)', () => {
  const c = useCluster();
  const nats = (args: string[], cwd?: string) => cli(['--nats', c.url, ...args], cwd ? { cwd } : {});
  const status = async (runId: string): Promise<View | null> => {
    const r = await nats(['status', runId, '--json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as View) : null;
  };
  const history = async (runId: string) =>
    JSON.parse((await nats(['history', runId, '--json'])).stdout) as { type: string; data: { progress?: Progress } }[];
  const start = async (workflow: string, args: string[] = []) => {
    const r = await nats(['start', workflow, ...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { runId: string }).runId;
  };
  const settled = (runId: string) =>
    waitFor(`run ${runId} to complete`, async () => (await status(runId))?.status === 'COMPLETED', {
      timeout: 30_000,
    });

  it('a worker (the `worker` user of nats.conf) publishes its progress: status sees it live, task.completed keeps the last', async () => {
    const dir = tempDir('lf-progress-nats-');
    const folder = scanFolder(dir);
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    const release = join(dir, 'release');
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(release));
    expect((await nats(['deploy', join(dir, 'archive-scan.yaml')])).code).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine']));
    // As nats.conf's `worker` user: its "$KV.LF_PROGRESS.>" line lets it publish progress.
    procs.push(spawnCli(['--nats', c.as('worker'), 'worker', '--handlers', join(dir, 'scan-handlers.mjs')]));
    const runId = await start('archive-scan', ['--folder', folder]);
    const live = await waitFor(
      'the live progress in status --json',
      async () => {
        const p = (await status(runId))?.tasks.scan?.progress;
        return p?.live && p.fraction === 0.4 ? p : null;
      },
      { timeout: 30_000 },
    );
    expect(live).toMatchObject({ fraction: 0.4, message: 'scanned 4 of 10 files', attempt: 1 });
    const text = await nats(['status', runId]);
    expect(text.stdout).toMatch(/scan\s+IN_PROGRESS\s+attempts 1 {2}█{8}░{12} 40%.*scanned 4 of 10 files/);
    writeFileSync(release, '');
    await settled(runId);
    expect((await status(runId))!.tasks.scan!.progress).toMatchObject({
      fraction: 1,
      message: 'scanned 10 of 10 files',
    });
    expect((await history(runId)).find((e) => e.type === 'task.completed')!.data.progress).toMatchObject({
      fraction: 1,
    });
    // `wait --json` prints the run in the shape `status --json` does, the kept value with it.
    const waited = await nats(['wait', runId, '--json']);
    expect((JSON.parse(waited.stdout) as View).tasks.scan!.progress).toMatchObject({ fraction: 1 });
  }, 120_000);

  it.each(['a remote worker', 'the engine itself (`engine --handlers`)'])(
    'an engine keeping the state file (`engine --state-file .3ox/workflow.state.yaml`) shows the live value as it moves: handlers run by %s',
    async (by) => {
      const remote = by === 'a remote worker';
      const dir = tempDir('lf-progress-nats-sf-');
      mkdirSync(join(dir, '.3ox'));
      const folder = scanFolder(dir);
      const workflow = remote ? 'archive-sf' : 'archive-sf-engine';
      writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML.replace('id: archive-scan', `id: ${workflow}`));
      const stops = [0.6, 0.8].map((at) => ({ at, release: join(dir, `release-${at}`) }));
      writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(join(dir, 'release'), stops));
      expect((await nats(['deploy', join(dir, 'archive-scan.yaml')])).code).toBe(0);
      const handlers = join(dir, 'scan-handlers.mjs');
      procs.push(
        spawnCli(
          [
            '--nats',
            c.url,
            'engine',
            '--state-file',
            '.3ox/workflow.state.yaml',
            ...(remote ? [] : ['--handlers', handlers]),
          ],
          { cwd: dir },
        ),
      );
      if (remote) procs.push(spawnCli(['--nats', c.as('worker'), 'worker', '--handlers', handlers]));
      const runId = await start(workflow, ['--folder', folder]);
      const file = join(dir, '.3ox', 'workflow.state.yaml');
      const task = () =>
        existsSync(file)
          ? (parse(readFileSync(file, 'utf8')) as Record<string, { status: string; tasks: View['tasks'] }> | null)?.[
              runId
            ]?.tasks.scan
          : undefined;
      const releases = [join(dir, 'release'), ...stops.map((s) => s.release)];
      for (const [i, at] of [0.4, 0.6, 0.8].entries()) {
        const shown = await waitFor(
          `${at * 100}% in the engine's state file`,
          () => {
            const t = task();
            return t?.progress?.fraction === at ? t : null;
          },
          { timeout: 30_000 },
        );
        expect(shown).toMatchObject({ status: 'IN_PROGRESS', progress: { message: `scanned ${at * 10} of 10 files` } });
        writeFileSync(releases[i]!, '');
      }
      await settled(runId);
      await waitFor('the kept value in the state file', () => task()?.status === 'COMPLETED', { timeout: 30_000 });
      expect(task()!.progress).toMatchObject({ fraction: 1, message: 'scanned 10 of 10 files' });
    },
    120_000,
  );

  it("the page's COMMAND script on a worker with --commands; 10,000 reports add nothing to the log", async () => {
    const dir = tempDir('lf-progress-nats-cmd-');
    mkdirSync(join(dir, 'scripts'));
    writeFileSync(join(dir, 'scripts', 'count.sh'), COUNT_SH);
    for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) writeFileSync(join(dir, f), 'one\n');
    writeFileSync(join(dir, 'count.yaml'), countYaml('count-files-nats'));
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML.replace('id: archive-scan', 'id: archive-loud'));
    writeFileSync(join(dir, 'quiet.yaml'), SCAN_YAML.replace('id: archive-scan', 'id: archive-quiet'));
    // The page's module as written, and one that reports 10,000 times for the other workflow.
    writeFileSync(join(dir, 'page-handlers.mjs'), SCAN_HANDLERS);
    writeFileSync(
      join(dir, 'scan-handlers.mjs'),
      `import page from './page-handlers.mjs';
export default {
  async scan(input, ctx) {
    if (ctx.workflowId === 'archive-quiet') return page.scan(input, ctx);
    for (let i = 1; i <= 10000; i++) ctx.progress(i / 10000, \`item \${i}\`);
    return { files: 1, bytes: 1 };
  },
};
`,
    );
    for (const f of ['count.yaml', 'archive-scan.yaml', 'quiet.yaml'])
      expect((await nats(['deploy', join(dir, f)])).code).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine']));
    procs.push(
      spawnCli(['--nats', c.url, 'worker', '--commands', '--handlers', join(dir, 'scan-handlers.mjs')], { cwd: dir }),
    );
    const count = await start('count-files-nats');
    const quiet = await start('archive-quiet', ['--folder', dir]);
    const loud = await start('archive-loud', ['--folder', dir]);
    for (const id of [count, quiet, loud]) await settled(id);
    expect((await status(count))!.tasks.count!.progress).toMatchObject({
      fraction: 1,
      message: 'counted 4 of 4 files',
    });
    const [a, b] = [await history(quiet), await history(loud)];
    expect(b.map((e) => e.type)).toEqual(a.map((e) => e.type));
    expect(b.find((e) => e.type === 'task.completed')!.data.progress).toMatchObject({
      fraction: 1,
      message: 'item 10000',
    });
  }, 120_000);

  it('GET /api/runs/:id/progress of `ledgerflow ui --nats` streams the live value, behind the sign-in', async () => {
    const dir = tempDir('lf-progress-nats-ui-');
    const folder = scanFolder(dir);
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML.replace('id: archive-scan', 'id: archive-ui'));
    const release = join(dir, 'release');
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(release));
    expect((await nats(['deploy', join(dir, 'archive-scan.yaml')])).code).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine']));
    procs.push(spawnCli(['--nats', c.url, 'worker', '--handlers', join(dir, 'scan-handlers.mjs')]));
    const ui = await startUiProcess(['--nats', c.url], [], { cwd: dir });
    procs.push(ui.child);
    const runId = await start('archive-ui', ['--folder', folder]);
    const url = `${ui.base}/api/runs/${runId}/progress`;
    expect((await fetch(url)).status).toBe(401);
    const session = await fetch(`${ui.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'engine', password: 'engine-dev-password' }),
    });
    expect(session.status).toBe(200);
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    const res = await fetch(url, { headers: { cookie } });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const at40 = await waitFor(
      'a progress event at 40%',
      async () => {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended:\n${text}`);
        text += new TextDecoder().decode(value);
        return [...text.matchAll(/event: progress\ndata: (.*)\n/g)]
          .map((m) => JSON.parse(m[1]!) as { tasks: Record<string, Progress> })
          .find((d) => d.tasks.scan?.fraction === 0.4);
      },
      { timeout: 30_000, detail: () => text },
    );
    await reader.cancel();
    expect(at40.tasks.scan).toMatchObject({ fraction: 0.4, message: 'scanned 4 of 10 files', live: true });
    writeFileSync(release, '');
    await settled(runId);
    await ui.stop();
  }, 120_000);
});
