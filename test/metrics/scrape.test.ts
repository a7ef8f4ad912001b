/**
 * `GET /metrics` of the real processes: `ledgerflow serve --metrics-port`
 * driving a run with a retried task on the embedded store, and `ledgerflow
 * engine --metrics-port` on a real nats-server, whose queue backlog counts an
 * attempt no worker has taken yet; each counts the notifications it delivered
 * (from the notes it appended), as does `ledgerflow ui`'s /metrics.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
import { Engine } from '../../src/local/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { parsePromText, sampleValue } from '../helpers/prom-text.js';
import { waitFor } from '../helpers/wait.js';

const RETRY = join(ROOT, 'test', 'fixtures', 'metrics', 'retry.yaml');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
const T = 30_000;

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** Spawns the CLI and resolves with the metrics URL it prints on stderr. */
async function withMetrics(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawnCli(args, { env: { LF_MARKERS: join(tempDir(), 'markers') } });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await waitFor(
    'the metrics URL',
    () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      return /metrics at (http:\/\/\S+)/.exec(out)?.[1];
    },
    { timeout: T, detail: () => out },
  );
  return { child, url, output: () => out };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one sample (exact name and labels as prom-client prints them), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ledgerflow serve --metrics-port', () => {
  it('after a run completes with a retry: runs, attempts, retries, outcomes, both duration histograms and its notifications, labelled by workflow and task', async () => {
    const store = tempDir();
    // Two webhooks for COMPLETED: one takes it (sent), one refuses it for good (HTTP 400: dead-lettered at once).
    const hooks = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url === '/ok' ? 204 : 400).end());
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    const addr = hooks.address();
    const hookBase = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const notifications = join(tempDir(), 'notifications.yaml');
    writeFileSync(
      notifications,
      `notifications:\n  - on: [COMPLETED]\n    webhook: ${hookBase}/ok\n  - on: [COMPLETED]\n    webhook: ${hookBase}/gone\n`,
    );
    const s = await withMetrics([
      '--store',
      store,
      'serve',
      '--handlers',
      HANDLERS,
      '--metrics-port',
      '0',
      '--no-schedules',
      '--notifications',
      notifications,
    ]);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // Started by an application through the library: serve records every step of it.
    const { definition } = loadDefinitionFile(RETRY);
    const runId = await new Engine({ store: new FileEventStore(store) }).start(definition, {});
    const wf = 'workflow="metrics-retry"';
    const text = await waitFor(
      'the run to be counted completed',
      async () => {
        const t = await scrape(s.url);
        return sample(t, `ledgerflow_runs_completed_total{${wf}}`) === 1 ? t : null;
      },
      { timeout: T, detail: s.output },
    );
    expect(sample(text, `ledgerflow_runs_started_total{${wf}}`)).toBe(1);
    expect(sample(text, `ledgerflow_runs_failed_total{${wf}}`)).toBeUndefined();
    expect(sample(text, `ledgerflow_task_attempts_total{${wf},task="flaky"}`)).toBe(2);
    expect(sample(text, `ledgerflow_task_attempts_total{${wf},task="first"}`)).toBe(1);
    expect(sample(text, `ledgerflow_task_retries_total{${wf},task="flaky"}`)).toBe(1);
    expect(sample(text, `ledgerflow_task_retries_total{${wf},task="first"}`)).toBeUndefined();
    expect(sample(text, `ledgerflow_task_outcomes_total{${wf},task="flaky",outcome="failed"}`)).toBe(1);
    expect(sample(text, `ledgerflow_task_outcomes_total{${wf},task="flaky",outcome="completed"}`)).toBe(1);
    expect(sample(text, `ledgerflow_task_outcomes_total{${wf},task="last",outcome="completed"}`)).toBe(1);
    expect(sample(text, `ledgerflow_task_attempt_duration_seconds_count{${wf},task="flaky",outcome="failed"}`)).toBe(1);
    expect(
      sample(text, `ledgerflow_task_attempt_duration_seconds_bucket{le="+Inf",${wf},task="flaky",outcome="completed"}`),
    ).toBe(1);
    expect(sample(text, `ledgerflow_run_duration_seconds_count{${wf},status="COMPLETED"}`)).toBe(1);
    // The run took at least the 200 ms backoff; the histogram's sum is the log's duration.
    const events = await new FileEventStore(store).read(runId);
    // The settling event, not the last: the notifications' notes come after it (later still on a loaded machine).
    const settling = events.find((e) => e.state.status === 'COMPLETED')!;
    const logSeconds = (Date.parse(settling.time) - Date.parse(events[0]!.time)) / 1000;
    expect(sample(text, `ledgerflow_run_duration_seconds_sum{${wf},status="COMPLETED"}`)).toBeCloseTo(logSeconds, 3);
    expect(logSeconds).toBeGreaterThanOrEqual(0.2);
    expect(sample(text, `ledgerflow_approvals_waiting{${wf}}`)).toBe(0);
    expect(sample(text, `ledgerflow_timers_pending{${wf}}`)).toBe(0);
    // The notifications serve delivered, counted from the notes it appended.
    const noted = await waitFor(
      'both notes counted',
      async () => {
        const t = await scrape(s.url);
        return sample(t, `ledgerflow_notifications_total{${wf},on="COMPLETED",outcome="sent"}`) === 1 &&
          sample(t, `ledgerflow_notifications_total{${wf},on="COMPLETED",outcome="dead_lettered"}`) === 1
          ? t
          : null;
      },
      { timeout: T, detail: s.output },
    );
    expect(noted).toMatch(/^# TYPE ledgerflow_notifications_total counter$/m);
    hooks.close();
    // Nothing but /metrics is served.
    expect((await fetch(s.url.replace('/metrics', '/'))).status).toBe(404);
    s.child.kill('SIGTERM');
    await waitFor('serve to exit', () => s.child.exitCode !== null, { timeout: T });
    expect(s.child.exitCode).toBe(0);
  }, 60_000);

  it('ledgerflow ui on the embedded store: its /metrics counts the runs it drives and the notifications it delivers', async () => {
    const store = tempDir();
    const hooks = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    const addr = hooks.address();
    const notifications = join(tempDir(), 'notifications.yaml');
    writeFileSync(
      notifications,
      `- on: [COMPLETED]\n  webhook: http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/ok\n`,
    );
    const child = spawnCli(
      ['--store', store, 'ui', '--port', '0', '--json', '--handlers', HANDLERS, '--notifications', notifications],
      { env: { LF_MARKERS: join(tempDir(), 'markers') } },
    );
    procs.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const ui = await waitFor(
      'the UI to listen',
      () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
        const line = out.split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as { base: string; token: string }) : undefined;
      },
      { timeout: T, detail: () => out },
    );
    const { definition } = loadDefinitionFile(RETRY);
    await new Engine({ store: new FileEventStore(store) }).start(definition, {});
    const wf = 'workflow="metrics-retry"';
    const uiText = await waitFor(
      'the run and its notification counted',
      async () => {
        const res = await fetch(`${ui.base}metrics`, { headers: { authorization: `Bearer ${ui.token}` } });
        const t = await res.text();
        return sample(t, `ledgerflow_runs_completed_total{${wf}}`) === 1 &&
          sample(t, `ledgerflow_notifications_total{${wf},on="COMPLETED",outcome="sent"}`) === 1
          ? t
          : null;
      },
      { timeout: T, detail: () => out },
    );
    // The process and Node.js metrics of prom-client's default collectors, in valid exposition text.
    expect(sampleValue(parsePromText(uiText), 'process_cpu_seconds_total')).toBeGreaterThan(0);
    hooks.close();
  }, 60_000);

  it(
    'refuses a metrics port that is not a port (exit 2, the flag named)',
    async () => {
      const child = spawnCli(['--store', tempDir(), 'serve', '--metrics-port', 'lots']);
      procs.push(child);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(code).toBe(2);
      expect(err).toContain('--metrics-port lots');
    },
    T,
  );
});

describe.skipIf(noNats)('ledgerflow engine --metrics-port (NATS)', () => {
  const c = useCluster();

  it('shows an attempt no worker has taken as backlog 1 on its queue, then the run counted once a worker ran it', async () => {
    const notifications = join(tempDir(), 'notifications.yaml');
    writeFileSync(notifications, '- on: [COMPLETED]\n  nats: true\n');
    const e = await withMetrics([
      '--nats',
      c.url,
      'engine',
      '--metrics-port',
      '0',
      '--no-schedules',
      '--notifications',
      notifications,
    ]);
    const { definition } = loadDefinitionFile(RETRY);
    await c.client.deploy(definition);
    await c.client.start('metrics-retry', {});
    const wf = 'workflow="metrics-retry"';
    const queued = await waitFor(
      'the first attempt to wait in the queue',
      async () => {
        const t = await scrape(e.url);
        return sample(t, 'ledgerflow_queue_backlog{queue="default"}') === 1 ? t : null;
      },
      { timeout: T, detail: e.output },
    );
    expect(sample(queued, `ledgerflow_runs_started_total{${wf}}`)).toBe(1);
    expect(sample(queued, `ledgerflow_task_attempts_total{${wf},task="first"}`)).toBe(1);

    await c.addWorker({ nats: c.url, handlers: (await import(HANDLERS)).default });
    const done = await waitFor(
      'the run to be counted completed',
      async () => {
        const t = await scrape(e.url);
        return sample(t, `ledgerflow_runs_completed_total{${wf}}`) === 1 ? t : null;
      },
      { timeout: T, detail: e.output },
    );
    expect(sample(done, 'ledgerflow_queue_backlog{queue="default"}')).toBe(0);
    expect(sample(done, `ledgerflow_task_retries_total{${wf},task="flaky"}`)).toBe(1);
    expect(sample(done, `ledgerflow_task_outcomes_total{${wf},task="flaky",outcome="failed"}`)).toBe(1);
    expect(sample(done, `ledgerflow_task_attempt_duration_seconds_count{${wf},task="flaky",outcome="completed"}`)).toBe(
      1,
    );
    expect(sample(done, `ledgerflow_run_duration_seconds_count{${wf},status="COMPLETED"}`)).toBe(1);
    // COMPLETED published on lf.notify, noted, and counted by the engine that noted it.
    await waitFor(
      'the notification counted',
      async () =>
        sample(await scrape(e.url), `ledgerflow_notifications_total{${wf},on="COMPLETED",outcome="sent"}`) === 1,
      { timeout: T, detail: e.output },
    );
    e.child.kill('SIGTERM');
    await waitFor('the engine to exit', () => e.child.exitCode !== null, { timeout: T });
  }, 60_000);
});
